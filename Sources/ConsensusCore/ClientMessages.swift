/// A client's request as it travels to a node.
///
/// Exactly-once without registration (Raft thesis §6.3; RIFL, Lee et al., SOSP 2015): the client
/// mints its own `client` id (no node hands ids out), numbers its requests 1, 2, 3, … and re-sends
/// an unanswered request under the same `sequence`, so the state machine applies it once and
/// answers every copy with the first reply. It may have several requests in flight at once; with
/// each it says how far it is done (`ackedThrough`), which lets the store forget the answers it no
/// longer needs, and whether the store must already know it (`established`), which lets a store
/// that expired its session say so instead of applying a retry twice.
public struct ClientRequest: Hashable, Sendable {
    public var client: ClientID
    public var sequence: UInt64
    /// The client's acknowledgement watermark (RIFL's "ack"; the thesis's "lowest sequence number
    /// without a response", minus one): every request of this client numbered at or below it is
    /// finished for the client — answered, or given up. The store discards their cached answers
    /// and refuses them from then on (`superseded`), so a request the client abandoned never takes
    /// effect late. 0: nothing finished yet.
    public var ackedThrough: UInt64
    /// Set once one of the client's writes has been answered `.ok`: a store then holds a session
    /// for it, so a store that knows no session for the client has expired it (or lost it) and
    /// refuses with `sessionExpired` instead of opening a new one, in which a retry of an applied
    /// request would apply again. Reads do not count: a read may be served outside the log, by a
    /// store that never saw the client.
    public var established: Bool
    public var command: Command

    public init(client: ClientID, sequence: UInt64, command: Command, ackedThrough: UInt64 = 0, established: Bool = false) {
        self.client = client
        self.sequence = sequence
        self.ackedThrough = ackedThrough
        self.established = established
        self.command = command
    }
}

/// A client request as the node that ordered it (a leader, a primary, the server) accepted it: with
/// that node's clock reading. Replicas apply the request at this stamp, never at their own clock,
/// so they agree on when a client's session has been idle too long (Raft thesis §6.3: "the leader
/// augments each command with its current time").
public struct StampedRequest: Hashable, Sendable {
    public var request: ClientRequest
    public var stamp: Instant

    public init(_ request: ClientRequest, at stamp: Instant) {
        self.request = request
        self.stamp = stamp
    }
}

/// A node's answer to a client request.
public struct ClientReply: Hashable, Sendable {
    public var client: ClientID
    public var sequence: UInt64
    public var status: ReplyStatus

    public init(client: ClientID, sequence: UInt64, status: ReplyStatus) {
        self.client = client
        self.sequence = sequence
        self.status = status
    }

    public init(to request: ClientRequest, _ status: ReplyStatus) {
        self.init(client: request.client, sequence: request.sequence, status: status)
    }
}

public enum ReplyStatus: Hashable, Sendable {
    /// The command took effect (or, for a read, was served) with this result.
    case ok(CommandResult)
    /// This node cannot serve the request; `hint` is the node it believes leads, if any.
    /// The request took no effect here.
    case notLeader(hint: NodeID?)
    /// The request definitely took no effect (a transaction aborted, a write refused).
    case rejected(RejectReason)
}

public enum RejectReason: String, Hashable, Sendable {
    /// An atomic-commit transaction was aborted.
    case aborted
    /// The node refuses writes (e.g. too few replicas in reach).
    case unavailable
    /// The client had finished with this request (it is at or below the client's `ackedThrough`,
    /// or its cached answer was dropped to keep the session within `sessionResults`): it was not
    /// applied now, and whether an earlier copy was is not said — for the client, indeterminate.
    case superseded
    /// The store holds no session for a client that says it has one (`established`): the session
    /// was idle for longer than `sessionTimeout` and expired (or the state holding it was lost, as
    /// asynchronous replication can lose it). The request was not applied now; an earlier copy may
    /// have been. The client treats it, and every other request it has in flight, as
    /// indeterminate, and starts a new session under a new client id.
    case sessionExpired
    /// A sharded store's server group does not serve the key's bucket under its configuration
    /// (6.824's ErrWrongGroup): the request took no effect; the client looks the table up again.
    case wrongGroup
}
