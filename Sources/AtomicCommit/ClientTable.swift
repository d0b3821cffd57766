import ConsensusCore
import KVStore

/// Exactly-once for writes, kept by the node clients write to: a `SessionTable` whose records are
/// the transactions under way and the answers given.
///
/// A client is pinned to one node and retries with the same sequence number, so the coordinator of
/// its writes is always that node: it starts at most one transaction per (client, sequence),
/// answers a retry of a finished one with the first answer, and refuses what the client has
/// finished with. A client may have several writes under way (each its own transaction). The table
/// is rebuilt after a restart from the transactions in the log, at the times they were logged.
/// (The replicated `KVStore` sessions cannot serve here: participants apply transactions on
/// different keys in different orders, so no two replicas see a client's requests in one order.
/// The table lives at the coordinator alone, so its clock is the coordinator's own.)
struct ClientTable: Sendable {
    enum Lookup: Equatable {
        case new
        case inProgress
        case answered(ReplyStatus)
        case superseded
        case expired
    }

    enum Status: Equatable, Sendable {
        case pending(TransactionID)
        case answered(ReplyStatus)
    }

    private var sessions: SessionTable<Status>

    init(options: SessionOptions) { sessions = SessionTable(options: options) }

    /// What to do with `request`, arriving at `now`; notes the client's activity and watermark.
    mutating func admit(_ request: ClientRequest, at now: Instant) -> Lookup {
        switch sessions.admit(request, at: now) {
        case .new: .new
        case .cached(.pending): .inProgress
        case .cached(.answered(let status)): .answered(status)
        case .superseded: .superseded
        case .expired: .expired
        }
    }

    mutating func start(_ request: ClientRequest, as transaction: TransactionID) {
        sessions.record(.pending(transaction), for: request)
    }

    /// Replays a transaction this node started at `stamp`, as its log records it. Only started
    /// transactions are logged: answers given without one (a lock conflict, a compare-and-set
    /// that did not match) are gone after a restart, and so is a session that held nothing else.
    mutating func restart(_ request: ClientRequest, as transaction: TransactionID, at stamp: Instant) {
        sessions.restore(.pending(transaction), for: request, at: stamp)
    }

    /// Records the answer to `request`, unless the client has finished with it or its session expired.
    mutating func answer(_ request: ClientRequest, _ status: ReplyStatus) {
        sessions.record(.answered(status), for: request)
    }
}
