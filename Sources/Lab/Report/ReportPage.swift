import ConsensusCore

/// `index.html`: the scenarios in words, the summary table, the charts inline and the anomalies
/// found. Self-contained (inline CSS and SVG, nothing from the network) and well-formed XML, so it
/// opens from the file system and tools can parse it.
enum ReportPage {
    static func html(_ data: ReportData, _ groups: [ScenarioGroup], charts: [String: [Chart]], suiteCharts: [Chart], dataFiles: [String]) throws -> String {
        let name = data.experiment?.name ?? data.runs.first?.row.string("experiment") ?? "experiment"
        var out = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\"/>",
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>",
                   "<title>\(escape(name)) — ConsensusLab report</title>", "<style>", style, "</style>", "</head>", "<body>",
                   "<h1>\(escape(name))</h1>"]
        if let description = data.experiment?.description, !description.isEmpty { out.append("<p class=\"lead\">\(escape(description))</p>") }
        out.append("<p class=\"files\">Data: " + dataFiles.map { "<a href=\"\(escape($0))\">\($0)</a>" }.joined(separator: " · ")
                   + ". Charts as SVG files in <code>charts/</code>. Rebuild with <code>conlab report DIR</code>.</p>")
        if groups.count > 1 {
            out.append("<nav><h2>Scenarios</h2><ol>" + groups.map { "<li><a href=\"#\(anchor($0))\">\(escape($0.title))</a></li>" }.joined() + "</ol></nav>")
            out.append("<section id=\"suite\"><h2>All scenarios</h2>")
            out += suiteCharts.map(figure)
            out.append("</section>")
        }
        for group in groups { out += try section(group, data, charts[group.key] ?? []) }
        out += ["<footer>Written by <code>conlab</code> from the files in this folder.</footer>", "</body>", "</html>"]
        return out.joined(separator: "\n") + "\n"
    }

    static func anchor(_ group: ScenarioGroup) -> String { "scenario-\(group.key)" }

    static func section(_ group: ScenarioGroup, _ data: ReportData, _ charts: [Chart]) throws -> [String] {
        var out = ["<section id=\"\(anchor(group))\">", "<h2>\(escape(group.title))</h2>"]
        if let entry = group.entry {
            if !entry.description.isEmpty { out.append("<p>\(escape(entry.description))</p>") }
            out.append("<dl>")
            let seeds = entry.seeds.map(String.init).joined(separator: ", ")
            out.append("<dt>Cluster</dt><dd>\(entry.nodes) nodes, clients for \(escape(entry.duration)), seeds \(seeds)</dd>")
            out.append("<dt>Backends</dt><dd>\(escape(entry.backends.joined(separator: ", ")))</dd>")
            let faults = entry.faults.isEmpty ? "none" : "<ol>" + entry.faults.map { "<li>\(escape($0))</li>" }.joined() + "</ol>"
            out.append("<dt>Faults</dt><dd>\(faults)</dd>")
            out.append("</dl>")
        }
        out.append("<h3>Summary</h3>")
        out.append(try summaryTable(group))
        out += try ShardedTables.html(group, data)
        out.append("<h3>Charts</h3>")
        out += charts.map(figure)
        out.append("<h3>Anomalies</h3>")
        out += try anomalies(group, data)
        out.append("</section>")
        return out
    }

    static func figure(_ chart: Chart) -> String {
        "<figure>\n\(chart.svg)<figcaption><a href=\"charts/\(escape(chart.name)).svg\">charts/\(escape(chart.name)).svg</a></figcaption></figure>"
    }

    /// Per variant: the mean over its seeds of each measure (empty values left out), and the seed count.
    static func summaryTable(_ group: ScenarioGroup) throws -> String {
        let inDoubt = try group.runs.contains { try $0.row.numberIfPresent("in_doubt_max_ms") != nil }
        let columns: [(title: String, column: String, scale: Double, digits: Int)] = [
            ("availability %", "availability", 100, 2), ("throughput ops/s", "throughput_ops_s", 1, 1), ("p50 ms", "latency_p50_ms", 1, 2),
            ("p99 ms", "latency_p99_ms", 1, 2), ("msgs/op", "msgs_per_op", 1, 2), ("leader changes", "leader_changes", 1, 1),
            ("max unavailable ms", "max_unavailable_ms", 1, 0), ("recovery ms", "recovery_ms", 1, 0),
            ("stale reads", "stale_reads", 1, 1), ("lost writes", "lost_writes", 1, 1), ("divergent keys", "divergent_keys", 1, 1),
            ("atomicity violations", "atomicity_violations", 1, 1),
        ] + (inDoubt ? inDoubtColumns : [])
        var rows = ["<table>", "<thead><tr><th>backend</th><th>seeds</th>" + columns.map { "<th>\($0.title)</th>" }.joined()
                        + "<th>linearizable</th></tr></thead>", "<tbody>"]
        for variant in group.variants {
            var cells = ["<td>\(escape(variant.label))</td>", "<td>\(variant.runs.count)</td>"]
            for column in columns {
                let values = try variant.runs.compactMap { try $0.row.numberIfPresent(column.column) }
                cells.append("<td>" + (values.isEmpty ? "–" : Number.fixed(values.reduce(0, +) / Double(values.count) * column.scale, column.digits)) + "</td>")
            }
            let verdicts = variant.runs.map { $0.row.string("linearizable") }
            cells.append("<td>" + ["false", "true", "unknown"].compactMap { verdict in
                let count = verdicts.filter { $0 == verdict }.count
                return count == 0 ? nil : "\(verdict) \(count)/\(verdicts.count)"
            }.joined(separator: ", ") + "</td>")
            rows.append("<tr>" + cells.joined() + "</tr>")
        }
        rows += ["</tbody>", "</table>",
                 "<p class=\"note\">Mean over each backend's seeds (empty values left out); stale reads, lost writes, divergent keys "
                     + "and atomicity violations per run."
                     + (inDoubt ? " In doubt (2PC, 3PC): transactions some participant waited for the decision "
                        + "\(RoleTimelineChart.blockingText) or more, the longest wait, and transactions still in doubt at the end, per run." : "")
                     + "</p>"]
        return rows.joined(separator: "\n")
    }

    /// Atomic commit's blocking, shown for scenarios that ran a 2PC or 3PC backend.
    static let inDoubtColumns: [(title: String, column: String, scale: Double, digits: Int)] = [
        ("in-doubt txns", "in_doubt_txns", 1, 1), ("max in doubt ms", "in_doubt_max_ms", 1, 0), ("still in doubt", "in_doubt_unresolved", 1, 1),
    ]

    /// Each run's first anomalies in words, a non-linearizable one with a drawing of the operations
    /// that cannot be ordered (`UnorderableChart`).
    static func anomalies(_ group: ScenarioGroup, _ data: ReportData) throws -> [String] {
        let found = group.runs.compactMap { run in data.anomalies[run.id].map { (run, $0) } }
        guard found.contains(where: { $0.1.count > 0 }) else {
            return ["<p>None recorded.</p>"]
        }
        var out: [String] = []
        for (run, anomalies) in found where anomalies.count > 0 {
            out.append("<h4>\(escape(run.id)): \(anomalies.count) anomal\(anomalies.count == 1 ? "y" : "ies") "
                       + "(first ones in <a href=\"\(ReportWriter.anomaliesFile)\">\(ReportWriter.anomaliesFile)</a>; all in "
                       + "<code>runs/\(escape(run.id))/anomalies.jsonl</code> where the run was made)</h4>")
            out.append("<ul class=\"anomalies\">")
            for (index, anomaly) in anomalies.first.enumerated() {
                let ops = anomaly["ops"].map(text) ?? "", key = anomaly["key"].map { " on key <code>\(escape(text($0)))</code>" } ?? ""
                let drawing = try UnorderableChart.chart(anomaly, name: "anomaly-\(chartName(run.id))-\(index + 1)", run: run.id)
                out.append("<li><b>\(escape(anomaly["kind"].map(text) ?? "?"))</b>\(key): \(escape(anomaly["explanation"].map(text) ?? ""))"
                           + (ops.isEmpty ? "" : "<br/><span class=\"ops\">operations: \(escape(ops.count > 400 ? String(ops.prefix(399)) + "…" : ops))</span>")
                           + (drawing.map { "\n<figure class=\"unorderable\">\n\($0.svg)</figure>" } ?? "") + "</li>")
            }
            if anomalies.count > anomalies.first.count { out.append("<li>… and \(anomalies.count - anomalies.first.count) more</li>") }
            out.append("</ul>")
        }
        return out
    }

    /// A run id as part of an XML id: letters, digits, '-', '_' and '.', anything else as '-'.
    static func chartName(_ run: String) -> String {
        String(run.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
    }

    /// A string as itself, anything else as compact JSON.
    static func text(_ value: JSONValue) -> String {
        if case .string(let string) = value { return string }
        return value.serialized
    }

    static func escape(_ text: String) -> String { SVG.escape(text) }

    static let style = """
    body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.4; }
    h1 { font-size: 1.8em; margin-bottom: 0.2em; }
    h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; margin-top: 2em; }
    .lead { font-size: 1.1em; }
    .files, .note, footer { color: #555; font-size: 0.9em; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
    dt { font-weight: bold; }
    dd { margin: 0; }
    dd ol { margin: 0; padding-left: 1.2em; }
    table { border-collapse: collapse; font-size: 0.85em; width: 100%; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.4em; text-align: right; }
    th:first-child, td:first-child { text-align: left; }
    thead th { background: #f0f0f0; }
    figure { margin: 1.5em 0; break-inside: avoid; }
    figure svg { max-width: 100%; height: auto; }
    figcaption { font-size: 0.8em; color: #555; }
    .anomalies .ops { font-family: monospace; font-size: 0.85em; color: #555; }
    @media print { body { max-width: none; } h2 { break-before: page; } }
    """
}
