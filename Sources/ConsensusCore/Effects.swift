/// What a backend wants done after one step. The driver applies storage operations first, then
/// sends `messages`, then delivers `replies`; `events` are observations for metrics, `events.csv`
/// and fault triggers.
///
/// Which outputs wait for the disk (etcd raft's `msgs` and `msgsAfterAppend`): replies, and every
/// message sent with `send(_:to:)`, leave only once every write the node made so far is durable —
/// a vote, an acknowledgement, a decision promises something about the sender's durable state.
/// A message sent with `send(_:to:departing: .atOnce)` promises nothing about it (a request for
/// votes, the leader's entries) and leaves while the write proceeds. A node that must count its own
/// write (a candidate its vote, a leader its log entry) sends itself the acknowledgement with
/// `send(_:to:)`: the driver delivers it back, without the network, once the write is durable.
///
/// One value is reused across steps (`removeAll(keepingCapacity:)`), so the hot path does not
/// allocate per step.
public struct Effects<Backend: ReplicationBackend> {
    public var storage: [PersistOp<Backend.Entry, Backend.HardState>] = []
    public var messages: [Outgoing<Backend.Message>] = []
    public var replies: [ClientReply] = []
    public var events: [ObservableEvent] = []

    public init() {}

    /// Sends `message` once everything this node wrote is durable.
    @inlinable public mutating func send(_ message: Backend.Message, to node: NodeID) {
        messages.append(Outgoing(to: node, message: message, departure: .afterWrites))
    }

    @inlinable public mutating func send(_ message: Backend.Message, to node: NodeID, departing departure: Departure) {
        messages.append(Outgoing(to: node, message: message, departure: departure))
    }

    @inlinable public mutating func reply(_ reply: ClientReply) { replies.append(reply) }

    @inlinable public mutating func persist(_ op: PersistOp<Backend.Entry, Backend.HardState>) { storage.append(op) }

    @inlinable public mutating func emit(_ event: ObservableEvent) { events.append(event) }

    /// Empties the buffers, keeping their capacity. A step fills each with a few elements at
    /// most, which `removeLast()` drops for less than `removeAll(keepingCapacity:)` costs (a generic
    /// range replacement, even on an empty array).
    public mutating func removeAll() {
        while !storage.isEmpty { storage.removeLast() }
        while !messages.isEmpty { messages.removeLast() }
        while !replies.isEmpty { replies.removeLast() }
        while !events.isEmpty { events.removeLast() }
    }

    public var isEmpty: Bool { storage.isEmpty && messages.isEmpty && replies.isEmpty && events.isEmpty }
}

public struct Outgoing<Message: Sendable>: Sendable {
    public var to: NodeID
    public var message: Message
    public var departure: Departure

    @inlinable public init(to: NodeID, message: Message, departure: Departure = .afterWrites) {
        self.to = to
        self.message = message
        self.departure = departure
    }
}

/// When an outgoing message may leave the node.
public enum Departure: Hashable, Sendable {
    /// Once every write the node made so far is durable: the message acknowledges durable state.
    case afterWrites
    /// At once, while the node's writes proceed: the message promises nothing about them.
    case atOnce
}

/// A protocol's wire message: the simulator counts messages and bytes, fault triggers name kinds,
/// and a runtime ships the encoding (inside a `WireFrame`, which carries the format version).
///
/// The encoding starts with a tag byte naming the case; `byteCount` is exactly the length of the
/// encoding (the simulator's `bytes_total`), computed without encoding.
public protocol WireMessage: WireCodable, Sendable {
    /// Message types of the protocol; the raw value is the name scenario triggers use (`"PREPARE"`).
    associatedtype Kind: RawRepresentable & CaseIterable & Hashable & Sendable where Kind.RawValue == String
    var kind: Kind { get }
}

/// Observations a backend reports: role and term changes, leadership, commit progress, transaction
/// decisions. They drive `events.csv`, the `leader_changes` metric, role targets (`"leader"`) and
/// event-triggered faults.
public enum ObservableEvent: Hashable, Sendable {
    /// The node changed role; `term` is its term or epoch; `name` the protocol's own word
    /// ("candidate", "LOOKING", "primary").
    case role(Role, term: UInt64, name: String)
    /// Entries up to `index` are committed (known to this node).
    case committed(LogIndex)
    /// This node started coordinating transaction `id` (atomic commit backends).
    case coordinating(transaction: UInt64)
    /// This node applied the decision for transaction `id` (atomic commit backends).
    case decided(transaction: UInt64, commit: Bool)
    /// This node voted YES on another node's transaction `id`, which writes `key`: from here until
    /// its `decided`, it is in doubt — it may neither commit nor abort alone, and holds the key's
    /// lock (2PC blocks here while the coordinator is gone; 3PC's timers bound the wait).
    case prepared(transaction: UInt64, key: String)
    /// Anything else worth a line in `events.csv` (sync mode chosen, election round, …).
    case note(kind: String, detail: String)
    /// A state the protocol's invariants exclude: reported, and the run goes on.
    case violation(SafetyViolation)
}

extension ObservableEvent {
    /// The coordinator of a transaction as events carry its id (`AtomicCommit.TransactionID`:
    /// the coordinator in the top 16 bits, its counter below), for drivers that name it.
    public static func coordinator(ofTransaction id: UInt64) -> NodeID { NodeID(Int(id >> 48)) }

    /// `T2.17`: the transaction's coordinator and that node's counter, as `TransactionID` prints it.
    public static func transactionName(_ id: UInt64) -> String { "T\(id >> 48).\(id & ((1 << 48) - 1))" }
}

/// Roles as the lab compares them across protocols.
public enum Role: String, Hashable, Sendable {
    /// Raft leader, ZAB LEADING, primary of a primary–backup pair.
    case leader
    /// Raft follower, ZAB FOLLOWING, backup.
    case follower
    /// Raft (pre-)candidate, ZAB LOOKING.
    case candidate
}
