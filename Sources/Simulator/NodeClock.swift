import ConsensusCore

/// A node's own clock. At rate 1 it reads true virtual time; at another rate it drifts, so timers
/// (election timeouts, leases) fire early or late — what breaks lease reads and not ReadIndex.
package struct NodeClock: Sendable {
    package private(set) var rate: Double = 1
    private var anchorGlobal: Int64 = 0
    private var anchorLocal: Int64 = 0

    package init() {}

    package func local(_ global: Instant) -> Instant {
        if rate == 1 { return Instant(microseconds: global.microseconds - anchorGlobal + anchorLocal) }
        return Instant(microseconds: anchorLocal + Int64((Double(global.microseconds - anchorGlobal) * rate).rounded(.down)))
    }

    /// The true time at which this clock reads `local` (rounded up, so a deadline is never early).
    package func global(_ local: Instant) -> Instant {
        if rate == 1 { return Instant(microseconds: local.microseconds - anchorLocal + anchorGlobal) }
        return Instant(microseconds: anchorGlobal + Int64((Double(local.microseconds - anchorLocal) / rate).rounded(.up)))
    }

    package mutating func setRate(_ newRate: Double, at now: Instant) {
        anchorLocal = local(now).microseconds
        anchorGlobal = now.microseconds
        rate = newRate
    }
}
