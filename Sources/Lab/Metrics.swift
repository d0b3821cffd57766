import ConsensusCore
import Simulator

/// Availability, latency and cost figures of one run, computed from its history and counters.
///
/// Availability is the share of operations the system served: completed `ok`, or a
/// compare-and-set that compared and refused (`fail` with error `cas-mismatch`). Refused or aborted
/// requests and indeterminate ones count as unavailable.
struct RunMetrics {
    var opsOK = 0
    var opsFailed = 0
    var opsIndeterminate = 0
    /// Of `opsFailed`, the compare-and-sets that compared and did not match.
    var casMismatches = 0
    var served = 0
    var latencies: [TimeSpan] = []
    var availability: Double { total == 0 ? 0 : Double(served) / Double(total) }
    var total: Int { opsOK + opsFailed + opsIndeterminate }
    /// Longest span of the workload window in which no operation succeeded.
    var maxUnavailable: TimeSpan = .zero
    /// From the first fault until the first success of an operation invoked after it.
    var recovery: TimeSpan?

    init(result: SimulationResult) {
        for operation in result.history {
            switch operation.outcome {
            case .ok: opsOK += 1; served += 1
            case .fail(let kind):
                opsFailed += 1
                if kind == .casMismatch { casMismatches += 1; served += 1 }
            case .indeterminate: opsIndeterminate += 1
            }
            if RunMetrics.isServed(operation), let complete = operation.complete { latencies.append(complete - operation.invoke) }
        }
        latencies.sort()
        maxUnavailable = Self.longestGap(result)
        recovery = Self.recovery(result)
    }

    static func isServed(_ operation: HistoryOperation) -> Bool {
        switch operation.outcome {
        case .ok, .fail(.casMismatch): true
        default: false
        }
    }

    /// Nearest-rank percentile of sorted durations.
    static func percentile(_ sorted: [TimeSpan], _ p: Double) -> TimeSpan? {
        guard !sorted.isEmpty else { return nil }
        let rank = max(Int((p * Double(sorted.count)).rounded(.up)), 1)
        return sorted[min(rank, sorted.count) - 1]
    }

    func latency(_ p: Double) -> TimeSpan? { Self.percentile(latencies, p) }

    static func longestGap(_ result: SimulationResult) -> TimeSpan {
        let successes = result.history.filter(isServed).compactMap(\.complete).filter { $0 <= result.workloadEnd }.sorted()
        var previous = Instant.zero, longest = TimeSpan.zero
        for time in successes + [result.workloadEnd] {
            longest = max(longest, time - previous)
            previous = max(previous, time)
        }
        return longest
    }

    static func recovery(_ result: SimulationResult) -> TimeSpan? {
        guard let fault = result.events.first(where: { $0.event.isFault && $0.time < result.workloadEnd })?.time else { return nil }
        let recovered = result.history.filter { $0.invoke >= fault && isServed($0) }.compactMap(\.complete).min()
        return recovered.map { $0 - fault }
    }
}
