import ConsensusCore
import Foundation

/// An experiment folder read back: every run of `summary.csv` with its time series, fault windows,
/// events, latency quantiles and anomalies. Runs keep the order of `summary.csv` (the order the
/// experiment ran them), so everything derived from them is deterministic.
struct ReportData {
    struct Run {
        var id: String
        var scenario: String
        var sweep: String
        var protocolName: String
        var variant: String
        var seed: UInt64
        var nodes: Int
        var row: CSVReader.Row
        /// `protocol[variant]`, as scenarios and `BackendSpec.label` name a backend.
        var label: String { variant.isEmpty ? protocolName : "\(protocolName)[\(variant)]" }
    }

    struct Window {
        var start: Double
        var end: Double
        var faults: String
    }

    /// A line of `events.csv`, with the columns the charts read (never `detail`).
    struct Event {
        var t: Double
        var node: String
        var kind: String
        /// The protocol's name of the role a `role` event enters.
        var role: String
        var term: String
        /// The leader a `leader` event names; empty when no node leads.
        var leader: String
        /// An `in-doubt` or `coordinator` line's transaction and key (empty on other lines).
        var transaction: String
        var key: String
        /// How long from the line on participants waited in doubt (ms; nil on other lines).
        var duration: Double?
    }

    struct Quantile {
        var quantile: Double
        var latency: Double
        var samples: Int
    }

    struct Anomalies {
        var count: Int
        /// The first few, as written.
        var first: [JSONValue]
    }

    /// The columns of `summary.csv` the page and the bar charts read.
    static let summaryMetrics = ["availability", "throughput_ops_s", "latency_p50_ms", "latency_p99_ms", "msgs_per_op", "leader_changes",
                                 "max_unavailable_ms", "recovery_ms", "linearizable"] + anomalyColumns
    /// The consistency counters that add up to a run's anomalies.
    static let anomalyColumns = ["stale_reads", "lost_writes", "divergent_keys", "atomicity_violations"]

    var experiment: ExperimentFile?
    var runs: [Run]
    var timeseries: [String: [CSVReader.Row]]
    var windows: [String: [Window]]
    var events: [String: [Event]]
    var latency: [String: [Quantile]]
    var anomalies: [String: Anomalies]
    /// A sharded experiment's rows by run: `groups.csv`, `migrations.csv`, `transactions.csv`
    /// (empty for one cluster).
    var shardGroups: [String: [CSVReader.Row]] = [:]
    var migrations: [String: [CSVReader.Row]] = [:]
    var shardTransactions: [String: [CSVReader.Row]] = [:]

    static func load(_ directory: String) throws -> ReportData {
        let summary = try CSVReader(directory, "summary.csv", required: ["scenario", "protocol", "variant", "nodes", "seed", "run", "sweep"] + summaryMetrics)
        let runs = try summary.rows.map { row in
            guard let seed = UInt64(row.string("seed")) else { throw ReportError(row.file, "line \(row.line), seed: \"\(row.string("seed"))\" is not a seed") }
            return Run(id: row.string("run"), scenario: row.string("scenario"), sweep: row.string("sweep"), protocolName: row.string("protocol"),
                       variant: row.string("variant"), seed: seed, nodes: try row.int("nodes"), row: row)
        }
        let timeseries = try CSVReader(directory, "timeseries.csv", required: ["run", "t_ms", "window_ms", "ops_ok", "availability",
                                                                                "latency_p50_ms", "latency_p99_ms"])
        let faults = try CSVReader(directory, "faults.csv", required: ["run", "start_ms", "end_ms", "faults"])
        let events = try CSVReader(directory, "events.csv", required: ["run", "t_ms", "node", "kind", "role", "term", "leader"])
        let latency = try CSVReader(directory, "latency.csv", required: ["run", "quantile", "latency_ms", "samples"], optional: true)
        var data = ReportData(experiment: try ExperimentFile.read(from: directory), runs: runs,
                              timeseries: Dictionary(grouping: timeseries.rows) { $0.string("run") }, windows: [:], events: [:], latency: [:],
                              anomalies: [:])
        for row in faults.rows {
            data.windows[row.string("run"), default: []].append(Window(start: try row.number("start_ms") ?? 0, end: try row.number("end_ms") ?? 0,
                                                                       faults: row.string("faults")))
        }
        for row in events.rows {
            data.events[row.string("run"), default: []].append(Event(t: try row.number("t_ms") ?? 0, node: row.string("node"), kind: row.string("kind"),
                                                                     role: row.string("role"), term: row.string("term"), leader: row.string("leader"),
                                                                     transaction: row.stringIfPresent("transaction"), key: row.stringIfPresent("key"),
                                                                     duration: try row.numberIfPresent("duration_ms")))
        }
        for row in latency.rows {
            guard let quantile = try row.number("quantile"), let value = try row.number("latency_ms") else { continue }
            data.latency[row.string("run"), default: []].append(Quantile(quantile: quantile, latency: value, samples: try row.int("samples")))
        }
        data.anomalies = try readAnomalies(directory)
        let byRun = { (rows: [CSVReader.Row]) in Dictionary(grouping: rows) { $0.string("run") } }
        data.shardGroups = byRun(try CSVReader(directory, "groups.csv", required: ShardedReport.groupColumns, optional: true).rows)
        data.migrations = byRun(try CSVReader(directory, "migrations.csv", required: ShardedReport.migrationColumns, optional: true).rows)
        data.shardTransactions = byRun(try CSVReader(directory, "transactions.csv", required: ShardedReport.transactionColumns, optional: true).rows)
        return data
    }

    /// The experiment's `anomalies.jsonl` (the first anomalies of each kind in each run, tagged with `run` and
    /// the run's total `run_anomalies`), when present.
    static func readAnomalies(_ directory: String) throws -> [String: Anomalies] {
        let path = (directory as NSString).appendingPathComponent(ReportWriter.anomaliesFile)
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ReportError(path, "unreadable") }
        var result: [String: Anomalies] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let anomaly: JSONValue
            do { anomaly = try JSONValue(parsing: String(line)) } catch { throw ReportError(path, "line \(index + 1): not JSON (\(error))") }
            guard case .object = anomaly, case .string(let run)? = anomaly["run"], case .number(let total)? = anomaly["run_anomalies"] else {
                throw ReportError(path, "line \(index + 1): expected an object with \"run\" and \"run_anomalies\"")
            }
            result[run, default: Anomalies(count: Int(total), first: [])].first.append(anomaly)
        }
        return result
    }

}
