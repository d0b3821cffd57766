import ConsensusCore

/// Exactly-once for writes, kept by the node clients write to.
///
/// A client is pinned to one node and retries with the same sequence number, so the coordinator of
/// its writes is always that node: it starts at most one transaction per (client, sequence),
/// answers a retry of a finished one with the first answer, and refuses older sequences. The table
/// is rebuilt after a restart from the transactions in the log. (The replicated `KVStore` sessions
/// cannot serve here: participants apply transactions on different keys in different orders, so a
/// client's sequence numbers do not reach every replica in order.)
struct ClientTable: Sendable {
    enum Lookup: Equatable {
        case new
        case inProgress
        case answered(ReplyStatus)
        case superseded
    }

    private enum Status: Sendable {
        case pending(TransactionID)
        case answered(ReplyStatus)
    }

    private struct Entry: Sendable {
        var sequence: UInt64
        var status: Status
    }

    private var entries: [ClientID: Entry] = [:]

    func lookup(_ request: ClientRequest) -> Lookup {
        guard let entry = entries[request.client] else { return .new }
        if request.sequence < entry.sequence { return .superseded }
        if request.sequence > entry.sequence { return .new }
        switch entry.status {
        case .pending: return .inProgress
        case .answered(let status): return .answered(status)
        }
    }

    mutating func start(_ request: ClientRequest, as transaction: TransactionID) {
        guard request.sequence >= entries[request.client]?.sequence ?? 0 else { return }
        entries[request.client] = Entry(sequence: request.sequence, status: .pending(transaction))
    }

    /// Records the answer to `request`, unless the client has moved on to a later one.
    mutating func answer(_ request: ClientRequest, _ status: ReplyStatus) {
        guard request.sequence >= entries[request.client]?.sequence ?? 0 else { return }
        entries[request.client] = Entry(sequence: request.sequence, status: .answered(status))
    }
}
