extension ReportWriter {
    package static let latencyColumns = ["run", "protocol", "variant", "quantile", "latency_ms", "samples"]

    /// The quantiles `latency.csv` keeps per run: enough to draw a latency CDF, tail included,
    /// without keeping histories.
    static let latencyQuantiles: [Double] = (0...19).map { Double($0) * 0.05 } + [0.99, 0.999, 1]

    /// `latency.csv`: per run, the latency of served operations at each of `latencyQuantiles`
    /// (nearest rank; quantile 0 is the fastest), and `samples`, how many operations the run served,
    /// which weighs the run when charts pool seeds. A run that served nothing has no rows.
    static func latency(_ outputs: [RunOutput]) -> CSVTable {
        var table = CSVTable(columns: latencyColumns)
        for output in outputs {
            let latencies = RunMetrics(result: output.result).latencies
            guard !latencies.isEmpty else { continue }
            for quantile in latencyQuantiles {
                table.append([output.spec.id, output.spec.backend.kind.name, output.spec.backend.variant, Number.fixed(quantile, 3),
                              Number.milliseconds(RunMetrics.percentile(latencies, quantile)), String(latencies.count)])
            }
        }
        return table
    }
}
