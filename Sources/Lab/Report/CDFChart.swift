/// Cumulative distributions per backend variant, seeds pooled: operation latency (from
/// `latency.csv`) and election time (from the `leader` events of `events.csv`).
enum CDFChart {
    static func latency(_ group: ScenarioGroup, _ data: ReportData) -> Chart {
        let series = group.variants.map { variant in (variant, Aggregate.pooledCDF(variant.runs.map { data.latency[$0.id] ?? [] })) }
        let positive = series.flatMap { $0.1.map(\.x) }.filter { $0 > 0 }
        return chart(group.key + "-latency-cdf", title: "\(group.title): latency distribution", series: series,
                     x: .logarithmic(positive.min() ?? 1, positive.max() ?? 10, title: "latency of served operations (ms, logarithmic)"),
                     caption: "Fraction of served operations answered within a latency, per backend, seeds pooled: each seed's distribution "
                         + "(its quantiles in latency.csv, linear in between) weighted by the operations it served.",
                     empty: "no latency.csv rows")
    }

    /// Nil when no run of the scenario had an election (no leader was ever lost, or the protocol
    /// has no leader): an empty chart would say nothing the table does not.
    static func elections(_ group: ScenarioGroup, _ data: ReportData) -> Chart? {
        let series = group.variants.map { variant in
            (variant, Aggregate.empiricalCDF(variant.runs.flatMap { Aggregate.elections(data.events[$0.id] ?? []) }))
        }
        guard series.contains(where: { !$0.1.isEmpty }) else { return nil }
        return chart(group.key + "-elections", title: "\(group.title): election time", series: series,
                     x: .linear(0, max(series.flatMap { $0.1.map(\.x) }.max() ?? 0, 1), title: "time without a leader (ms)"),
                     caption: "Distribution of election times per backend, seeds pooled (every election counts once): an election is a span "
                         + "with no leader after the first leader (leader events in events.csv); one still open at the end of a run is left out.",
                     empty: "no elections")
    }

    static func chart(_ name: String, title: String, series: [(ScenarioGroup.Variant, [(x: Double, p: Double)])], x: Axis,
                      caption: String, empty: String) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let plot = ChartFrame.plot(x: x, y: .fixed(0, 1, step: 0.2, title: "cumulative fraction"))
        plot.drawAxes(&svg)
        for (variant, points) in series { ChartFrame.line(&svg, plot, variant.label, variant.style, points.map { ($0.x, $0.p) }) }
        let entries = series.map { LegendEntry(label: $0.1.isEmpty ? "\($0.0.label) (\(empty))" : $0.0.label, sample: .line($0.0.style)) }
        var bottom = ChartFrame.legend(&svg, entries, top: plot.bottom + 38)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }
}
