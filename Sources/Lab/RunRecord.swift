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
    /// A sharded run's `groups.csv`, `migrations.csv` and `transactions.csv` rows; nil for one cluster.
    let sharded: (groups: CSVTable, migrations: CSVTable, transactions: CSVTable)?
    let anomaliesJSONL: String
    /// The run's line of `Experiment.summaryText`.
    let line: RunLine
    /// The checker found something (a history that is not linearizable or undecided, stale reads,
    /// lost writes, divergent replicas, atomicity violations), or a backend reported a safety violation.
    public var isAnomalous: Bool { line.hasAnomalies }

    package init(_ output: RunOutput) {
        spec = output.spec
        let row = SummaryRow(output)
        summary = ReportWriter.summary([row])
        timeseries = ReportWriter.timeseries([output])
        events = ReportWriter.events([output])
        faults = ReportWriter.faults([output])
        latency = ReportWriter.latency([output])
        sharded = output.sharded.map { _ in (ShardedReport.groups(output), ShardedReport.migrations(output), ShardedReport.transactions(output)) }
        anomaliesJSONL = output.consistency.anomaliesJSONL
        line = RunLine(row)
    }
}
