import ConsensusCore
import Foundation
import Simulator

/// Writes an experiment's outputs (DESIGN.md § Outputs) into one folder:
/// `summary.csv`, `timeseries.csv`, `events.csv`, `faults.csv`, `latency.csv` and `runs/<run>/history.jsonl`.
public enum ReportWriter {
    package static let summaryColumns = SummaryColumn.allCases.map(\.rawValue)

    package static let faultColumns = ["run", "protocol", "window", "start_ms", "end_ms", "faults", "ops", "availability",
                                      "availability_majority_side", "availability_minority_side", "recovery_ms", "heal_recovery_ms"]

    package static let timeseriesColumns = ["run", "protocol", "t_ms", "window_ms", "ops_ok", "ops_failed", "ops_indeterminate",
                                           "availability", "latency_p50_ms", "latency_p99_ms", "leader", "faults_active",
                                           "availability_majority_side", "availability_minority_side"]

    /// `kind` and `detail` in words; then, added later, the values a reader needs without parsing
    /// `detail`: the protocol's name of a role, the term (or epoch) of a role change, leader change
    /// or first commit, and the leader a leader change names (empty: none); then, for atomic commit's
    /// blocking waits (`in-doubt` at a participant, `coordinator` at the transaction's coordinator),
    /// the transaction, its key, and how long from the line on participants waited in doubt.
    package static let eventColumns = ["run", "t_ms", "node", "kind", "detail", "role", "term", "leader", "transaction", "key", "duration_ms"]

    /// Width of the time-series windows.
    static let window = TimeSpan.seconds(1)

    /// Writes all outputs (a test's or a tool's: `conlab run` streams through `Runner.record`);
    /// returns the paths written, relative to `directory`.
    @discardableResult
    public static func write(_ outputs: [RunOutput], to directory: String) throws -> [String] {
        var written: [String] = []
        for output in outputs { written += try writeRunFiles(output, to: directory) }
        return try write(outputs.map(RunRecord.init), to: directory) + written
    }

    /// Writes the experiment-level files from the runs' records; returns the paths written.
    @discardableResult
    public static func write(_ records: [RunRecord], to directory: String) throws -> [String] {
        var files = [
            ("summary.csv", merged(records.map(\.summary), summaryColumns)),
            ("timeseries.csv", merged(records.map(\.timeseries), timeseriesColumns)),
            ("events.csv", merged(records.map(\.events), eventColumns)), ("faults.csv", merged(records.map(\.faults), faultColumns)),
            (anomaliesFile, anomalyExcerpt(records)), ("latency.csv", merged(records.map(\.latency), latencyColumns)),
        ]
        let sharded = records.compactMap(\.sharded)
        if !sharded.isEmpty {
            files.append(("groups.csv", merged(sharded.map(\.groups), ShardedReport.groupColumns)))
            files.append(("migrations.csv", merged(sharded.map(\.migrations), ShardedReport.migrationColumns)))
            files.append(("transactions.csv", merged(sharded.map(\.transactions), ShardedReport.transactionColumns)))
        }
        for (relative, text) in files { try save(text, relative, in: directory) }
        return files.map(\.0)
    }

    /// Writes one run's own files: `runs/<run>/history.jsonl` (unless `history` is false) and, if
    /// the run has any, `anomalies.jsonl`.
    @discardableResult
    static func writeRunFiles(_ output: RunOutput, to directory: String, history: Bool = true) throws -> [String] {
        var written: [String] = []
        if history {
            written.append("runs/\(output.spec.id)/history.jsonl")
            try save(output.historyText, written[written.count - 1], in: directory)
        }
        if !output.consistency.anomaliesJSONL.isEmpty {
            written.append("runs/\(output.spec.id)/anomalies.jsonl")
            try save(output.consistency.anomaliesJSONL, written[written.count - 1], in: directory)
        }
        return written
    }

    private static func save(_ text: String, _ relative: String, in directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func merged(_ tables: [CSVTable], _ columns: [String]) -> String {
        var all = CSVTable(columns: columns)
        for table in tables { all.append(contentsOf: table) }
        return all.text
    }

    /// The experiment's `anomalies.jsonl`: the first anomalies of each kind in every run (each line
    /// carries its `run` and the run's total, `run_anomalies`), small enough to keep with a
    /// committed report; every anomaly of a run is in `runs/<run>/anomalies.jsonl`. Per kind,
    /// because a checker lists a key's non-linearizable wall first: the first few lines of a
    /// primary-backup run would hide the hundreds of writes it lost.
    static let anomaliesFile = "anomalies.jsonl"
    static let anomaliesPerKind = 3

    static func anomalyExcerpt(_ records: [RunRecord]) -> String {
        var text = ""
        for record in records {
            let lines = record.anomaliesJSONL.split(separator: "\n")
            var kept: [String: Int] = [:]
            for line in lines {
                guard case .object(let members)? = try? JSONValue(parsing: String(line)) else { continue }
                let kind = members.first { $0.0 == "kind" }.flatMap { if case .string(let kind) = $0.1 { kind } else { nil } } ?? ""
                guard kept[kind, default: 0] < anomaliesPerKind else { continue }
                kept[kind, default: 0] += 1
                let tagged = JSONValue.object([("run", .string(record.spec.id)), ("run_anomalies", .number(Double(lines.count)))] + members)
                text += tagged.serialized + "\n"
            }
        }
        return text
    }

    /// Every output of one run as text (summary row, time series, events, history): what a
    /// determinism check compares.
    package static func renderedRun(_ output: RunOutput) -> String {
        [summary([output]).text, timeseries([output]).text, events([output]).text, faults([output]).text, latency([output]).text,
         ShardedReport.groups(output).text, ShardedReport.migrations(output).text, ShardedReport.transactions(output).text, output.historyText].joined(separator: "\n")
    }

    static func historyText(_ history: [HistoryOperation]) -> String {
        var text = ""
        text.reserveCapacity(history.count * 120)
        for operation in history { text += operation.jsonLine; text += "\n" }
        return text
    }

    static func summary(_ outputs: [RunOutput]) -> CSVTable { summary(outputs.map(SummaryRow.init)) }

    static func summary(_ rows: [SummaryRow]) -> CSVTable {
        var table = CSVTable(columns: summaryColumns)
        for row in rows { table.append(row.fields) }
        return table
    }

    /// Per window of invocation time: how the operations invoked in it ended.
    static func timeseries(_ outputs: [RunOutput]) -> CSVTable {
        var table = CSVTable(columns: timeseriesColumns)
        for output in outputs {
            let result = output.result
            let windows = Int((result.workloadEnd.microseconds + window.microseconds - 1) / window.microseconds)
            var buckets = Array(repeating: [HistoryOperation](), count: max(windows, 1))
            for operation in result.history {
                let index = Int(operation.invoke.microseconds / window.microseconds)
                if buckets.indices.contains(index) { buckets[index].append(operation) }
            }
            for (index, bucket) in buckets.enumerated() {
                let start = Instant.zero + window * Int64(index), end = start + window
                let ok = bucket.filter { if case .ok = $0.outcome { true } else { false } }.count
                let failed = bucket.filter { if case .fail = $0.outcome { true } else { false } }.count
                let served = bucket.filter(RunMetrics.isServed)
                let latencies = served.compactMap { operation in operation.complete.map { $0 - operation.invoke } }.sorted()
                table.append([
                    output.spec.id, output.spec.backend.kind.name, Number.fixed(start.milliseconds, 0), Number.fixed(window.milliseconds, 0),
                    String(ok), String(failed), String(bucket.count - ok - failed),
                    bucket.isEmpty ? "" : Number.fixed(Double(served.count) / Double(bucket.count), 4),
                    Number.milliseconds(RunMetrics.percentile(latencies, 0.5)), Number.milliseconds(RunMetrics.percentile(latencies, 0.99)),
                    leader(at: end, result.leaders).map(\.description) ?? "",
                    String(maxFaults(from: start, to: end, result.faultLevels)),
                ] + sides(bucket, from: start, to: end, result))
            }
        }
        return table
    }

    /// The window's availability on each side of a partition, as `faults.csv` splits a fault
    /// window (`FaultWindow.isOnMinoritySide`): empty for a window during which no node was cut
    /// off from a majority, and for a side on which no operation was invoked.
    static func sides(_ bucket: [HistoryOperation], from start: Instant, to end: Instant, _ result: SimulationResult) -> [String] {
        let split = result.faultLevels.enumerated().contains { index, level in
            let next = index + 1 < result.faultLevels.count ? result.faultLevels[index + 1].start : result.end
            return !level.minoritySide.isEmpty && level.start < end && next > start
        }
        guard split else { return ["", ""] }
        let minority = bucket.filter { FaultWindow.isOnMinoritySide($0, result) }
        let majority = bucket.filter { !FaultWindow.isOnMinoritySide($0, result) }
        return [majority, minority].map { FaultWindow.availability($0).map { Number.fixed($0, 4) } ?? "" }
    }

    static func leader(at time: Instant, _ spans: [LeaderSpan]) -> NodeID? {
        spans.last { $0.start < time }?.leader
    }

    static func maxFaults(from start: Instant, to end: Instant, _ levels: [FaultLevel]) -> Int {
        var level = levels.last { $0.start <= start }?.active ?? 0
        for change in levels where change.start > start && change.start < end { level = max(level, change.active) }
        return level
    }

    /// One row per fault window: what was active, availability on each side, recovery times.
    static func faults(_ outputs: [RunOutput]) -> CSVTable {
        var table = CSVTable(columns: faultColumns)
        let ratio = { (value: Double?) in value.map { Number.fixed($0, 4) } ?? "" }
        for output in outputs {
            for (index, window) in FaultWindow.windows(output.result).enumerated() {
                table.append([output.spec.id, output.spec.backend.kind.name, String(index + 1), Number.fixed(window.start.milliseconds, 3),
                              Number.fixed(window.end.milliseconds, 3), window.faults.joined(separator: "; "), String(window.ops),
                              ratio(window.availability), ratio(window.availabilityMajoritySide), ratio(window.availabilityMinoritySide),
                              Number.milliseconds(window.recovery), Number.milliseconds(window.healRecovery)])
            }
        }
        return table
    }

    static func events(_ outputs: [RunOutput]) -> CSVTable {
        var table = CSVTable(columns: eventColumns)
        for output in outputs {
            for event in output.result.events {
                table.append([output.spec.id, Number.fixed(event.time.milliseconds, 3), event.node?.description ?? "", event.event.kind, event.detail]
                             + typedFields(event.event))
            }
        }
        return table
    }

    /// The `role`, `term`, `leader`, `transaction`, `key` and `duration_ms` fields of an event's line.
    static func typedFields(_ event: SimulationEvent) -> [String] {
        switch event {
        case .role(_, let term, let name): [name, String(term), "", "", "", ""]
        case .leader(let leader?, let term): ["", String(term), leader.description, "", "", ""]
        case .firstCommit(_, let term): ["", String(term), "", "", "", ""]
        case .inDoubt(let transaction, let key, let duration, _), .coordinatedInDoubt(let transaction, let key, let duration, _):
            ["", "", "", ObservableEvent.transactionName(transaction), key, Number.milliseconds(duration)]
        default: ["", "", "", "", "", ""]
        }
    }
}
