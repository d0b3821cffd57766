import Glibc

/// One client's connection to one address of a target, used by that client's thread alone.
///
/// `perform` never throws and never traps: whatever the target sends, or fails to send, becomes
/// an outcome. After a failure that leaves the stream in an unknown state the connection drops its
/// socket and connects again before the next operation, as a real client would.
package protocol KeyValueConnection: AnyObject {
    /// Sends `operation`, waits for the answer (at most the run's timeout per exchange) and says how it ended.
    func perform(_ operation: Operation) -> OperationOutcome
    /// Round trips repeated because a guarded write lost a race (etcd's append); 0 where the target
    /// has the operation natively.
    var retries: Int { get }
}

/// How long a client whose target refused a new connection waits before it tries again: a closed
/// loop against a node that is down would otherwise spin, counting thousands of identical errors a
/// second and starving the clients that still have a node.
let reconnectPause: useconds_t = 100_000
