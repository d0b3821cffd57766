import Foundation

/// `conlab report DIR` (and the end of `conlab run` and `conlab merge`): charts and a page built from
/// the files of an experiment folder alone, so a merged or committed folder gives the same bytes as
/// the run that wrote it.
public enum Report {
    /// The data files the page links when present.
    static let dataFiles = ["summary.csv", "timeseries.csv", "events.csv", "faults.csv", "latency.csv", ReportWriter.anomaliesFile, ExperimentFile.fileName,
                            "groups.csv", "migrations.csv", "transactions.csv"]

    /// Writes `charts/*.svg` and `index.html` into `directory`; returns the paths written, relative
    /// to it. Chart files left from an earlier build that this one does not write are removed.
    @discardableResult
    public static func build(directory: String) throws -> [String] {
        let data = try ReportData.load(directory)
        let groups = ScenarioGroup.groups(data)
        guard !groups.isEmpty else { throw ReportError((directory as NSString).appendingPathComponent("summary.csv"), "no runs") }
        var charts: [String: [Chart]] = [:]
        for group in groups { charts[group.key] = try self.charts(group, data) }
        let suiteCharts = groups.count > 1 ? try BarChart.suiteCharts(groups) : []
        let present = dataFiles.filter { FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0)) }
        let page = try ReportPage.html(data, groups, charts: charts, suiteCharts: suiteCharts, dataFiles: present)

        let chartDirectory = (directory as NSString).appendingPathComponent("charts")
        try FileManager.default.createDirectory(atPath: chartDirectory, withIntermediateDirectories: true)
        let all = suiteCharts + groups.flatMap { charts[$0.key]! }
        let names = Set(all.map { "\($0.name).svg" })
        for stale in try FileManager.default.contentsOfDirectory(atPath: chartDirectory).sorted() where stale.hasSuffix(".svg") && !names.contains(stale) {
            try FileManager.default.removeItem(atPath: (chartDirectory as NSString).appendingPathComponent(stale))
        }
        var written: [String] = []
        for chart in all {
            try save(chart.svg, "charts/\(chart.name).svg", in: directory)
            written.append("charts/\(chart.name).svg")
        }
        try save(page, "index.html", in: directory)
        return written + ["index.html"]
    }

    /// A scenario's charts in page order.
    static func charts(_ group: ScenarioGroup, _ data: ReportData) throws -> [Chart] {
        try TimeSeriesChart.charts(group, data)
            + [CDFChart.latency(group, data), try BarChart.scenarioChart(group), try RoleTimelineChart.chart(group, data)]
            + [try BlockedKeysChart.chart(group, data), CDFChart.elections(group, data)].compactMap { $0 }
    }

    static func save(_ text: String, _ relative: String, in directory: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(relative), options: .atomic)
    }
}
