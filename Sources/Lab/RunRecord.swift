import Checker
/// What an experiment keeps of a run once the run's own files are written: its rows of every
/// experiment-level file and its line of the terminal table.
///
/// A simulation result holds every operation and event of the run; keeping all of them until the
/// end made memory grow with the number of runs (about 2 GB for the standard suite). The rows are
/// a few kilobytes, so a sweep of thousands of runs fits in memory.
public struct RunRecord: Sendable {
    public let spec: RunSpec
    let summary: CSVTable
    let timeseries: CSVTable
    let events: CSVTable
    let faults: CSVTable
    let latency: CSVTable
    let anomaliesJSONL: String
    /// The run's row of `Experiment.summaryText`.
    let terminal: [String]
    /// The checker found something: a history that is not linearizable, stale reads, lost
    /// writes, divergent replicas or atomicity violations.
    public let isAnomalous: Bool

    package init(_ output: RunOutput) {
        spec = output.spec
        summary = ReportWriter.summary([output])
        timeseries = ReportWriter.timeseries([output])
        events = ReportWriter.events([output])
        faults = ReportWriter.faults([output])
        latency = ReportWriter.latency([output])
        anomaliesJSONL = output.consistency.anomaliesJSONL
        let consistency = output.consistency
        isAnomalous = consistency.linearizable == .notLinearizable || consistency.staleReads + consistency.lostWrites
            + consistency.divergentKeys + consistency.atomicityViolations > 0
        let metrics = RunMetrics(result: output.result)
        terminal = [output.spec.id, String(metrics.opsOK), String(metrics.opsFailed), String(metrics.opsIndeterminate),
                    Number.fixed(metrics.availability * 100, 1) + "%", Number.milliseconds(metrics.latency(0.5)),
                    Number.milliseconds(metrics.latency(0.99)), String(output.result.counters.leaderChanges),
                    output.consistency.linearizable.rawValue]
    }
}
