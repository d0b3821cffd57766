import Foundation

/// How the charts combine seeds: time series are averaged per window, distributions are pooled.
enum Aggregate {
    /// The mean over runs of one time-series column per window, at the window's centre (seconds).
    /// A window where no run has a value (no operation was invoked in it) has none: a gap.
    static func perWindow(_ runs: [ReportData.Run], _ data: ReportData,
                          _ value: (CSVReader.Row) throws -> Double?) throws -> [(t: Double, value: Double?)] {
        var sums: [Double: (centre: Double, sum: Double, count: Int)] = [:]
        for run in runs {
            for row in data.timeseries[run.id] ?? [] {
                let start = try row.number("t_ms") ?? 0, width = try row.number("window_ms") ?? 0
                var slot = sums[start] ?? ((start + width / 2) / 1000, 0, 0)
                if let value = try value(row) { slot.sum += value; slot.count += 1 }
                sums[start] = slot
            }
        }
        return sums.keys.sorted().map { key in
            let slot = sums[key]!
            return (slot.centre, slot.count == 0 ? nil : slot.sum / Double(slot.count))
        }
    }

    /// The end of the runs' time series, in seconds (the end of the workload).
    static func timeEnd(_ runs: [ReportData.Run], _ data: ReportData) throws -> Double {
        var end = 0.0
        for run in runs {
            for row in data.timeseries[run.id] ?? [] { end = max(end, ((try row.number("t_ms") ?? 0) + (try row.number("window_ms") ?? 0)) / 1000) }
        }
        return end
    }

    /// The latency CDF of the runs pooled: each run's CDF (linear between the quantiles of
    /// `latency.csv`) weighted by the operations it served, evaluated at every stored latency.
    static func pooledCDF(_ tables: [[ReportData.Quantile]]) -> [(x: Double, p: Double)] {
        let tables = tables.filter { !$0.isEmpty }.map { $0.sorted { $0.quantile < $1.quantile } }
        let total = Double(tables.map { $0[0].samples }.reduce(0, +))
        guard total > 0 else { return [] }
        let xs = Set(tables.flatMap { $0.map(\.latency) }).sorted()
        let points = xs.map { x in (x: x, p: tables.map { Double($0[0].samples) * cdf($0, at: x) }.reduce(0, +) / total) }
        // The curve rises from 0 at the fastest operation, where the first quantiles may coincide.
        guard let first = points.first, first.p > 0 else { return points }
        return [(first.x, 0)] + points
    }

    /// One run's CDF at `x`, interpolated between its stored quantiles.
    static func cdf(_ table: [ReportData.Quantile], at x: Double) -> Double {
        guard let k = table.lastIndex(where: { $0.latency <= x }) else { return 0 }
        guard k + 1 < table.count, table[k + 1].latency > table[k].latency else { return table[k].quantile }
        let a = table[k], b = table[k + 1]
        return a.quantile + (b.quantile - a.quantile) * (x - a.latency) / (b.latency - a.latency)
    }

    /// The empirical CDF of pooled samples as the corners of its steps: at each sample the
    /// fraction rises from the samples below it to the samples up to it. With `total` larger than
    /// the samples (trials that never ended), fractions are of `total` and the curve stays below 1.
    static func empiricalCDF(_ samples: [Double], total: Int? = nil) -> [(x: Double, p: Double)] {
        let sorted = samples.sorted(), count = Double(max(total ?? samples.count, samples.count))
        return sorted.enumerated().flatMap { index, x in [(x, Double(index) / count), (x, Double(index + 1) / count)] }
    }

    /// Election durations (ms) of one run from its `leader` events: spans without a leader after
    /// the first leader, closed by the next leader. One still open when the events end is left out.
    static func elections(_ events: [ReportData.Event]) -> [Double] {
        var durations: [Double] = []
        var hadLeader = false, open: Double?
        for event in events where event.kind == "leader" {
            if event.leader.isEmpty {
                if hadLeader, open == nil { open = event.t }
            } else {
                if let start = open { durations.append(event.t - start) }
                hadLeader = true
                open = nil
            }
        }
        return durations
    }

    /// What a node was doing over a span of the run, from `role`, `start`, `restart` and `crash` events.
    struct RoleSpan: Equatable {
        enum State: Hashable {
            case role(String)
            /// Running, no role reported (yet, or ever: protocols without roles).
            case up
            case down
        }

        var start: Double
        var end: Double
        var state: State
        /// The term of a role, empty otherwise.
        var term: String
    }

    /// Each node's spans (`n1`…`nN`) from 0 to `end` ms; before its first start a node has none.
    static func roleSpans(_ events: [ReportData.Event], nodes: Int, end: Double) -> [[RoleSpan]] {
        (1...max(nodes, 1)).map { number in
            var spans: [RoleSpan] = []
            func enter(_ state: RoleSpan.State, _ term: String, at time: Double) {
                if let last = spans.last, last.end > time { spans[spans.count - 1].end = time }
                spans.removeAll { $0.end <= $0.start }
                spans.append(RoleSpan(start: time, end: end, state: state, term: term))
            }
            for event in events where event.node == "n\(number)" && event.t < end {
                switch event.kind {
                case "start", "restart": enter(.up, "", at: event.t)
                case "crash": enter(.down, "", at: event.t)
                case "role": enter(.role(event.role), event.term, at: event.t)
                default: continue
                }
            }
            return spans
        }
    }

    /// Atomic commit's blocking waits in one run, per node (`n1`…`nN`), joined where they
    /// overlap, in ms up to `end`: the `in-doubt` lines (`kind`: the node waited for a decision)
    /// or the `coordinator` lines (the node's transactions kept participants waiting), each
    /// from its time for its `duration_ms`.
    static func doubtSpans(_ events: [ReportData.Event], kind: String, nodes: Int, end: Double) -> [[ClosedRange<Double>]] {
        (1...max(nodes, 1)).map { number in
            joined(events.filter { $0.kind == kind && $0.node == "n\(number)" }.compactMap { span(of: $0, end: end) })
        }
    }

    /// The keys an in-doubt transaction held at some participant, each with the spans it was
    /// blocked (joined over participants) and the participants, in order of their first block.
    static func blockedKeys(_ events: [ReportData.Event], end: Double) -> [(key: String, spans: [ClosedRange<Double>], nodes: [String])] {
        var keys: [String] = [], spans: [String: [ClosedRange<Double>]] = [:], nodes: [String: Set<String>] = [:]
        for event in events where event.kind == "in-doubt" && !event.key.isEmpty {
            guard let span = span(of: event, end: end) else { continue }
            if spans[event.key] == nil { keys.append(event.key) }
            spans[event.key, default: []].append(span)
            nodes[event.key, default: []].insert(event.node)
        }
        return keys.map { ($0, joined(spans[$0]!), nodes[$0]!.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }) }
    }

    /// The span an event's `duration_ms` covers, cut at `end`; nil if it begins after `end`.
    private static func span(of event: ReportData.Event, end: Double) -> ClosedRange<Double>? {
        guard let duration = event.duration, event.t < end else { return nil }
        return event.t...min(event.t + duration, end)
    }

    /// Spans that overlap or touch joined, in time order.
    static func joined(_ spans: [ClosedRange<Double>]) -> [ClosedRange<Double>] {
        var result: [ClosedRange<Double>] = []
        for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, span.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, span.upperBound)
            } else {
                result.append(span)
            }
        }
        return result
    }

    /// The fault windows to shade: those of every seed among `runs` (every backend of it), one
    /// band per distinct span, with the share of the seeds that had it: with random faults the
    /// seeds' windows differ, and each seed's curve dips in its own.
    static func faultBands(_ runs: [ReportData.Run], _ data: ReportData) -> FaultBands {
        let seeds = Set(runs.map(\.seed))
        var seedsOf: [String: Set<UInt64>] = [:], bands: [ReportData.Window] = []
        // Windows that start and end within a tenth of a second of each other (a triggered step
        // lands a few ms apart per seed) are one band, as the first seed had it.
        let key = { (window: ReportData.Window) in "\((window.start / 100).rounded()) \((window.end / 100).rounded())" }
        for run in runs {
            for window in data.windows[run.id] ?? [] {
                if seedsOf[key(window)] == nil { bands.append(window) }
                seedsOf[key(window), default: []].insert(run.seed)
            }
        }
        let sorted = bands.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        return FaultBands(windows: sorted, shares: sorted.map { Double(seedsOf[key($0)]!.count) / Double(max(seeds.count, 1)) },
                          seeds: seeds.sorted())
    }
}
