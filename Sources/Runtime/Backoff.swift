import ConsensusCore

/// How long a dialer waits before trying a peer again: `initial` doubled per failure since the last
/// success, capped at `maximum`, then jittered to between half and all of that, so that nodes that
/// lost a peer at the same moment do not redial it in lockstep, and a peer that is down for long
/// costs one attempt per `maximum` or so.
public struct Backoff: Hashable, Sendable {
    public var initial: TimeSpan
    public var maximum: TimeSpan

    public init(initial: TimeSpan, maximum: TimeSpan) {
        precondition(initial.microseconds > 0 && maximum >= initial, "back-off needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after `failures` consecutive failed attempts (0 after a connection that worked).
    public func delay(afterFailures failures: Int, using random: inout some RandomNumberGenerator) -> TimeSpan {
        // 2^30 × initial is beyond any sensible maximum; the cap keeps the exponent small.
        let (grown, overflow) = initial.microseconds.multipliedReportingOverflow(by: 1 << Int64(min(failures, 30)))
        let ceiling = overflow ? maximum.microseconds : min(maximum.microseconds, grown)
        let half = ceiling / 2
        return .microseconds(half + Int64.random(in: 0...(ceiling - half), using: &random))
    }
}
