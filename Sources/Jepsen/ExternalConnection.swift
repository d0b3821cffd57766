import ConsensusCore

/// One client's blocking connection to an external system, used by that client's thread alone:
/// the per-system client adapter (`EtcdConnection`, `SentinelConnection`). It has no session, so
/// it never sends a request again itself after it may have been applied.
protocol ExternalConnection: AnyObject {
    /// Sends `command` once (an adapter may take several requests for it, as etcd's append does)
    /// and says how it ended.
    func perform(_ command: Command) -> ExternalAnswer
}

/// How one attempt at a command ended.
enum ExternalAnswer: Hashable, Sendable {
    /// Answered: a result (a `cas` that did not match is `.casMismatch`).
    case ok(CommandResult)
    /// Certainly not applied (no connection could be made, the node said it is no primary, no
    /// leader took it): the client may try again.
    case notApplied(String)
    /// Sent, and no answer that says what happened (a broken connection, a timeout, an error that
    /// does not say the request was dropped): for a write, indeterminate.
    case unknown(String)
}
