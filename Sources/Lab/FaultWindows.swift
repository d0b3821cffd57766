import ConsensusCore
import Simulator

/// A maximal span of the run during which at least one fault was active, with what happened to the
/// operations invoked in it — on each side of a partition too.
struct FaultWindow {
    var start: Instant
    /// When the last fault of the window was repaired (the end of the run if never).
    var end: Instant
    var faults: [String]
    var ops: Int
    var availability: Double?
    /// Operations of clients pinned to nodes that could reach a majority.
    var availabilityMajoritySide: Double?
    /// Operations of clients pinned to nodes cut off from a majority.
    var availabilityMinoritySide: Double?
    /// From the start of the window to the first success of an operation invoked after it.
    var recovery: TimeSpan?
    /// From the repair to the first success of an operation invoked after it.
    var healRecovery: TimeSpan?

    static func windows(_ result: SimulationResult) -> [FaultWindow] {
        var spans: [(start: Instant, end: Instant)] = []
        for (index, level) in result.faultLevels.enumerated() where level.start < result.workloadEnd {
            let next = index + 1 < result.faultLevels.count ? result.faultLevels[index + 1].start : result.end
            if level.active > 0 {
                if let last = spans.last, last.end == level.start { spans[spans.count - 1].end = next } else { spans.append((level.start, next)) }
            }
        }
        return spans.map { span in
            let ops = result.history.filter { $0.invoke >= span.start && $0.invoke < span.end }
            let minority = ops.filter { isOnMinoritySide($0, result) }
            let majority = ops.filter { !isOnMinoritySide($0, result) }
            let faults = result.events.filter { $0.event.isFault && $0.time >= span.start && $0.time < span.end }.map(\.detail)
            return FaultWindow(start: span.start, end: span.end, faults: faults, ops: ops.count,
                               availability: availability(ops), availabilityMajoritySide: availability(majority),
                               availabilityMinoritySide: availability(minority),
                               recovery: firstSuccess(after: span.start, result).map { $0 - span.start },
                               healRecovery: span.end < result.workloadEnd ? firstSuccess(after: span.end, result).map { $0 - span.end } : nil)
        }
    }

    static func availability(_ ops: [HistoryOperation]) -> Double? {
        ops.isEmpty ? nil : Double(ops.filter(RunMetrics.isServed).count) / Double(ops.count)
    }

    static func firstSuccess(after time: Instant, _ result: SimulationResult) -> Instant? {
        result.history.filter { $0.invoke >= time && RunMetrics.isServed($0) }.compactMap(\.complete).min()
    }

    /// Whether the operation's client sat, at invocation, with a node cut off from a majority.
    static func isOnMinoritySide(_ operation: HistoryOperation, _ result: SimulationResult) -> Bool {
        guard let level = result.faultLevels.last(where: { $0.start <= operation.invoke }) else { return false }
        return level.minoritySide.contains(operation.node)
    }
}

/// Leader elections as clients live them: how long the cluster had no leader, each time after the
/// first leader was lost. Empty for protocols without leaders.
enum Elections {
    static func durations(_ result: SimulationResult) -> [TimeSpan] {
        var durations: [TimeSpan] = []
        var hadLeader = false
        for (index, span) in result.leaders.enumerated() {
            if span.leader != nil { hadLeader = true; continue }
            guard hadLeader, span.start < result.workloadEnd else { continue }
            let next = index + 1 < result.leaders.count ? result.leaders[index + 1].start : result.end
            durations.append(next - span.start)
        }
        return durations
    }
}
