import ConsensusCore
import Sharding
import Simulator

/// What the clients of a sharded run record of their cross-shard transactions, for the history
/// and `transactions.csv`, whichever driver ran them: each write enters the history as an
/// operation of its own spanning the whole transaction — done if it committed, refused if it
/// aborted, indeterminate if it was still under way when the run ended (a group may have applied
/// it already).
public struct TransactionLedger: Sendable {
    /// The writes of finished transactions, as history operations (nodes numbered across the deployment).
    public private(set) var writes: [HistoryOperation] = []
    /// Per transaction, its writes' positions in `writes`.
    public private(set) var operations: [String: [Int]] = [:]
    /// Every finished transaction, in the order they finished.
    public private(set) var finished: [FinishedTransaction] = []
    /// The writes of transactions still under way at the end.
    public private(set) var unfinished: [HistoryOperation] = []

    /// A transaction as its coordinator saw it end.
    public struct FinishedTransaction: Sendable {
        public var id: String
        public var groups: [GroupID]
        public var started: Instant
        public var finished: Instant
        public var result: TransactionClerk.Result
    }

    /// A transaction under way: what its client knows of it.
    public struct Open: Sendable {
        public var id: String
        public var client: ClientID
        public var writes: [Command]
        public var started: Instant
        /// Per group, the node the last request to it went through (the history's `node` of that group's writes).
        public var nodes: [GroupID: NodeID] = [:]

        public init(id: String, client: ClientID, writes: [Command], started: Instant) {
            self.id = id
            self.client = client
            self.writes = writes
            self.started = started
        }

        /// The node a write to `group` is recorded at (any group's when none was reached).
        func node(_ group: GroupID?) -> NodeID { group.flatMap { nodes[$0] } ?? nodes.values.min() ?? NodeID(1) }
    }

    public init() {}

    /// Records `transaction`, ended at `time` with `result`; `owner` names the group of a key.
    public mutating func finish(_ transaction: Open, _ result: TransactionClerk.Result, at time: Instant, owner: (String) -> GroupID?) {
        var positions: [Int] = []
        for write in transaction.writes {
            positions.append(writes.count)
            writes.append(HistoryOperation(id: 0, client: transaction.client, node: transaction.node(owner(write.key)), command: write,
                                           invoke: transaction.started, complete: time, outcome: result == .committed ? .ok(.done) : .fail(.refused)))
        }
        operations[transaction.id] = positions
        finished.append(FinishedTransaction(id: transaction.id, groups: transaction.nodes.keys.sorted(), started: transaction.started, finished: time, result: result))
    }

    /// Records `transaction`, still under way when the run ended.
    public mutating func abandon(_ transaction: Open) {
        unfinished += transaction.writes.map { write in
            HistoryOperation(id: 0, client: transaction.client, node: transaction.node(nil), command: write,
                             invoke: transaction.started, complete: nil, outcome: .indeterminate)
        }
    }
}

extension ShardClients.TransactionMix {
    /// The writes of transaction `id`: puts of its id to distinct keys of the workload's, drawn
    /// from the client's transaction stream.
    public func writes(id: String, keys count: Int, random: inout DeterministicRandom) -> [Command] {
        var keys: [String] = []
        while keys.count < min(self.keys, count) {
            let key = "k\(random.index(below: count))"
            if !keys.contains(key) { keys.append(key) }
        }
        return keys.map { Command.put(key: $0, value: id) }
    }
}
