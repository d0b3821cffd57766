import ConsensusCore

extension RESPValue {
    /// The reply Redis clients expect to a data command, from the cluster's answer `reply`.
    ///
    /// Results: `GET` answers the value or null; `SET` answers `+OK`; `SET … IFEQ`/`NX` answers
    /// `+OK`, or null when the expected value did not match (Redis 8.4's answer). `DEL` and `APPEND`
    /// answer integers in Redis (keys removed, new length), and typed clients (Jedis, go-redis)
    /// refuse any other type, but the store reports neither number: `DEL` answers `:1` (one delete
    /// applied, whether or not the key existed) and `APPEND` answers `:0`, a length no successful
    /// Redis append of a non-empty value returns, so nobody mistakes it for the real one.
    ///
    /// Refusals say in their first word what a client can do: `CLUSTERDOWN` (no leader: retry
    /// later), `TRYAGAIN` (another node leads: the text names it), `NOREPLICAS` (too few replicas in
    /// reach; Redis's own error for that), `ERR` otherwise. Each text says whether the command
    /// took effect.
    public init(_ reply: ClientReply, to command: Command) {
        switch reply.status {
        case .ok(let result): self = Self.result(result, of: command)
        case .notLeader(nil):
            self = .error("CLUSTERDOWN no leader: the cluster is electing one; the command took no effect, try again")
        case .notLeader(let leader?):
            self = .error("TRYAGAIN not the leader: \(leader) leads; the command took no effect, send it there")
        case .rejected(let reason): self = Self.rejection(reason, client: reply.client)
        }
    }

    /// The reply to a command whose answer did not come in time: it may or may not have taken effect.
    public static let timedOut = RESPValue.error(
        "TIMEOUT no answer from the cluster in time; the command may or may not have taken effect")

    private static func result(_ result: CommandResult, of command: Command) -> RESPValue {
        switch (result, command) {
        case (.value(let value), _): value.map { .bulk($0) } ?? .null
        case (.casMismatch, _): .null
        case (.done, .delete): .integer(1)
        case (.done, .append): .integer(0)
        case (.done, _): .ok
        }
    }

    private static func rejection(_ reason: RejectReason, client: ClientID) -> RESPValue {
        switch reason {
        case .aborted:
            .error("ERR aborted: the transaction carrying the command was aborted; it took no effect")
        case .unavailable:
            .error("NOREPLICAS not enough replicas in reach to write; the command took no effect")
        case .superseded:
            .error("ERR superseded: the request is at or below the session's acknowledged-through number; it was not applied now, and whether an earlier copy was is unknown")
        case .sessionExpired:
            .error("ERR session expired: the store holds no session for client \(client.rawValue); the command was not applied now, an earlier copy may have been; start a new session under a new client id")
        }
    }
}
