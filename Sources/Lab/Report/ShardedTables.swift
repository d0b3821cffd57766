/// A sharded scenario's tables on the report page: each run's server groups (availability,
/// latency, longest gap, leader changes, buckets at the end), its bucket moves (how many, how long
/// a bucket went unserved) and its cross-shard transactions (outcomes and durations), from
/// `groups.csv`, `migrations.csv` and `transactions.csv`.
enum ShardedTables {
    static func html(_ group: ScenarioGroup, _ data: ReportData) throws -> [String] {
        let runs = group.variants.flatMap(\.runs).map(\.id).filter { data.shardGroups[$0] != nil }
        guard !runs.isEmpty else { return [] }
        var out = ["<h3>Server groups</h3>", "<table>", "<thead><tr><th>run</th><th>group</th><th>nodes</th><th>ops</th><th>availability %</th>"
                   + "<th>p50 ms</th><th>p99 ms</th><th>max unavailable ms</th><th>leader changes</th><th>buckets at the end</th></tr></thead>", "<tbody>"]
        for run in runs {
            for row in data.shardGroups[run] ?? [] {
                out.append("<tr>" + [run, row.string("group"), row.string("nodes"), row.string("ops"), try percent(row.numberIfPresent("availability")),
                                     row.string("latency_p50_ms"), row.string("latency_p99_ms"), row.string("max_unavailable_ms"),
                                     row.string("leader_changes"), row.string("buckets_at_end")].map { "<td>\(ReportPage.escape($0))</td>" }.joined() + "</tr>")
            }
        }
        out += ["</tbody>", "</table>", "<h3>Bucket moves and cross-shard transactions</h3>", "<table>",
                "<thead><tr><th>run</th><th>bucket moves</th><th>unserved ms, median</th><th>unserved ms, longest</th><th>transactions</th>"
                    + "<th>committed</th><th>duration ms, median</th><th>duration ms, longest</th></tr></thead>", "<tbody>"]
        for run in runs {
            let unserved = try (data.migrations[run] ?? []).compactMap { try $0.numberIfPresent("unserved_ms") }.sorted()
            let transactions = data.shardTransactions[run] ?? []
            let durations = try transactions.compactMap { try $0.numberIfPresent("duration_ms") }.sorted()
            let committed = transactions.filter { $0.string("outcome") == "committed" }.count
            out.append("<tr>" + [run, String(unserved.count), median(unserved), unserved.last.map { Number.fixed($0, 0) } ?? "–", String(transactions.count),
                                 String(committed), median(durations), durations.last.map { Number.fixed($0, 0) } ?? "–"]
                .map { "<td>\(ReportPage.escape($0))</td>" }.joined() + "</tr>")
        }
        out += ["</tbody>", "</table>",
                "<p class=\"note\">A bucket is unserved from the moment its old owner adopts the configuration that gives it away until its new "
                    + "owner has installed it; the other buckets keep serving. A transaction lasts from its first PREPARE until every group it "
                    + "wrote to knows the outcome. groups.csv, migrations.csv and transactions.csv have every row.</p>"]
        return out
    }

    static func percent(_ value: Double?) -> String { value.map { Number.fixed($0 * 100, 2) } ?? "–" }

    /// The middle value (nearest rank), to the millisecond.
    static func median(_ sorted: [Double]) -> String { sorted.isEmpty ? "–" : Number.fixed(sorted[(sorted.count - 1) / 2], 0) }
}
