/// A client's request as it travels to a node. Retries reuse the same `sequence`, so the state
/// machine can apply a request once and answer repeats with the first reply (exactly-once).
public struct ClientRequest: Hashable, Sendable {
    public var client: ClientID
    public var sequence: UInt64
    public var command: Command

    public init(client: ClientID, sequence: UInt64, command: Command) {
        self.client = client
        self.sequence = sequence
        self.command = command
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
    /// A later request of the same client superseded this one; it was not applied.
    case superseded
}
