import ConsensusCore
import Sharding
import Simulator

/// The files a sharded run adds to an experiment: `groups.csv`, each server group's availability
/// and latency (its clients' operations, from the common history), and `migrations.csv`, each
/// bucket move's window (from the old owner freezing the bucket to the new owner serving it), and
/// `transactions.csv`, each cross-shard transaction: the groups it wrote to, how long it took from
/// its first PREPARE to the last group hearing the decision, and how it ended.
enum ShardedReport {
    static let transactionColumns = ["run", "transaction", "groups", "start_ms", "end_ms", "duration_ms", "outcome", "reason"]

    static func transactions(_ output: RunOutput) -> CSVTable {
        var table = CSVTable(columns: transactionColumns)
        for transaction in output.sharded?.transactions ?? [] {
            let (outcome, reason) = switch transaction.result {
            case .committed: ("committed", "")
            case .aborted(let reason): ("aborted", reason)
            }
            table.append([output.spec.id, transaction.id, transaction.groups.map(\.description).joined(separator: " "),
                          Number.milliseconds(transaction.started - .zero), Number.milliseconds(transaction.finished - .zero),
                          Number.milliseconds(transaction.finished - transaction.started), outcome, reason])
        }
        return table
    }

    static let groupColumns = ["run", "group", "nodes", "ops", "availability", "latency_p50_ms", "latency_p99_ms", "max_unavailable_ms",
                               "leader_changes", "buckets_at_end"]
    static let migrationColumns = ["run", "version", "bucket", "from", "to", "frozen_ms", "installed_ms", "unserved_ms"]

    static func groups(_ output: RunOutput) -> CSVTable {
        var table = CSVTable(columns: groupColumns)
        guard let sharded = output.sharded else { return table }
        for row in sharded.groups {
            var part = output.result
            let nodes = Set(row.nodes)
            part.history = part.history.filter { nodes.contains($0.node) }
            let metrics = RunMetrics(result: part)
            table.append([output.spec.id, row.group.description, row.nodes.map(\.description).joined(separator: " "), String(metrics.total),
                          metrics.total == 0 ? "" : Number.fixed(metrics.availability, 4), Number.milliseconds(metrics.latency(0.5)),
                          Number.milliseconds(metrics.latency(0.99)), Number.milliseconds(metrics.maxUnavailable),
                          String(row.leaderChanges), String(row.bucketsAtEnd)])
        }
        return table
    }

    static func migrations(_ output: RunOutput) -> CSVTable {
        var table = CSVTable(columns: migrationColumns)
        for move in output.sharded?.migrations ?? [] {
            table.append([output.spec.id, String(move.version), String(move.bucket.index), move.from?.description ?? "", move.to.description,
                          Number.milliseconds(move.frozen - .zero), Number.milliseconds(move.installed - .zero), Number.milliseconds(move.length)])
        }
        return table
    }
}
