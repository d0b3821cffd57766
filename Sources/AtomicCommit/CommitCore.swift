import ConsensusCore
import KVStore

/// The machinery 2PC and 3PC share: one replica of the key-value store, replicated write-all by
/// atomic commit.
///
/// Every write is a transaction that every node must apply; the node the client wrote to
/// coordinates it, and is itself one of the participants. A participant locks the key when it votes
/// YES and holds it until it learns the decision; reads are served from the local replica unless an
/// undecided transaction holds the key. Everything durable is a `TransactionRecord`, so a restart
/// rebuilds the replica, the locks of in-doubt transactions, the exactly-once table and the
/// transaction counter from the log.
///
/// The protocols differ in what happens between the votes and the decision (3PC's PreCommit round)
/// and in what a node does when it hears nothing (2PC asks and blocks, 3PC decides by timeout or runs
/// a termination protocol); those live in the backends, which drive this core.
package struct CommitCore<Backend: ReplicationBackend>: Sendable
where Backend.Message: CommitWire, Backend.Entry == TransactionRecord {
    package typealias Out = Effects<Backend>

    package let id: NodeID
    /// Every other node: under write-all each is a participant of every transaction.
    package let peers: [NodeID]
    package let timing: CommitTiming
    /// Whether an abort is re-sent until acknowledged. 2PC presumes abort (Mohan, Lindsay &
    /// Obermarck 1986): a participant that misses the abort asks and is told, so it is sent once.
    /// 3PC cannot: a pre-committed participant that misses it commits when its timer runs out.
    package let abortsAcknowledged: Bool
    /// Written by committed transactions only: the client sessions live in `clients`.
    package internal(set) var store: KVStore
    package internal(set) var locks = LockTable()
    /// Transactions not finished with, by id.
    package internal(set) var active: [TransactionID: Transaction<Backend.Message>] = [:]
    /// Every decision this node knows, applied here or not.
    package internal(set) var decisions: [TransactionID: Bool] = [:]
    /// Transactions this node voted NO on and has not heard the outcome of. Not logged: a NO vote
    /// binds nobody, and a node that forgets it can only vote again.
    var refused: Set<TransactionID> = []
    var clients: ClientTable
    var nextCounter: UInt64 = 1
    var nextIndex: LogIndex
    var rejections: [Rejection] = []

    struct Rejection: Sendable {
        var phase: String?
        var remaining: Int
    }

    package init(id: NodeID, cluster: [NodeID], timing: CommitTiming, sessions: SessionOptions, abortsAcknowledged: Bool,
                recovered: RecoveredState<TransactionRecord, Backend.HardState>) {
        self.id = id
        store = KVStore(sessions: sessions)
        clients = ClientTable(options: sessions)
        self.abortsAcknowledged = abortsAcknowledged
        peers = cluster.filter { $0 != id }.sorted()
        self.timing = timing
        nextIndex = recovered.lastIndex + 1
        for record in recovered.entries { replay(record) }
        // Resume at the first tick: an undecided transaction's timer fires at once, and a decision
        // not acknowledged by everyone is sent again.
        for transaction in active.keys {
            active[transaction]!.recovered = true
            if active[transaction]!.state.decision == nil {
                active[transaction]!.timer = .zero
            } else {
                let decision = CommitMessage.decision(transaction, commit: active[transaction]!.state == .committed)
                active[transaction]!.round = Round(message: Backend.Message(decision), pending: peers, expires: nil,
                                                   resendAt: .zero, interval: timing.retransmit)
            }
        }
    }

    /// Rebuilds the state one log record left behind.
    private mutating func replay(_ record: TransactionRecord) {
        switch record {
        case .prepared(let transaction, let request, let stamp):
            active[transaction] = Transaction(id: transaction, request: request, state: .voted)
            locks.acquire(request.command.key, for: transaction)
            if transaction.coordinator == id {
                nextCounter = max(nextCounter, transaction.counter + 1)
                clients.restart(request, as: transaction, at: stamp)
            }
        case .preCommitted(let transaction):
            active[transaction]?.state = .preCommitted
        case .decided(let transaction, let commit):
            decisions[transaction] = commit
            guard let undecided = active[transaction] else { return }
            let result = applyToReplica(undecided, commit: commit).result
            if transaction.coordinator == id {
                clients.answer(undecided.request, Self.answer(commit: commit, result))
                active[transaction]!.state = TransactionState(decision: commit)
            } else {
                active[transaction] = nil
            }
        case .ended(let transaction):
            active[transaction] = nil
        }
    }

    /// The earliest timer of any transaction: a participant's timeout or a round's re-send or expiry.
    package var nextDeadline: Instant? {
        var earliest: Instant?
        for transaction in active.values {
            if let deadline = transaction.deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    // MARK: Shared steps

    /// Appends one record to the log; the driver syncs it before this step's messages leave.
    mutating func persist(_ record: TransactionRecord, into out: inout Out) {
        out.persist(.append(firstIndex: nextIndex, entries: [record]))
        nextIndex += 1
    }

    /// Applies a decision to the replica: a commit executes the write (in the order of the decision
    /// records, which replay follows), and the key's lock is released.
    private mutating func applyToReplica(_ transaction: Transaction<Backend.Message>, commit: Bool) -> (result: CommandResult?, parked: [ClientRequest]) {
        let result = commit ? store.execute(transaction.request.command) : nil
        return (result, locks.release(transaction.key, by: transaction.id))
    }

    /// Applies a newly known decision here: replica, waiting reads, the client of a transaction
    /// coordinated here, and the `.decided` event the atomicity check reads.
    mutating func apply(_ transaction: Transaction<Backend.Message>, commit: Bool, into out: inout Out) {
        decisions[transaction.id] = commit
        refused.remove(transaction.id)
        let (result, parked) = applyToReplica(transaction, commit: commit)
        for read in parked { out.reply(ClientReply(to: read, .ok(.value(store.read(read.command.key))))) }
        out.emit(.decided(transaction: transaction.id.rawValue, commit: commit))
        guard transaction.id.coordinator == id else { return }
        let status = Self.answer(commit: commit, result)
        clients.answer(transaction.request, status)
        out.reply(ClientReply(to: transaction.request, status))
    }

    /// A committed write answers with what it did; an aborted one is a definite failure.
    static func answer(commit: Bool, _ result: CommandResult?) -> ReplyStatus {
        commit ? .ok(result ?? .done) : .rejected(.aborted)
    }

    func send(_ message: CommitMessage, to node: NodeID, into out: inout Out) {
        out.send(Backend.Message(message), to: node)
    }
}
