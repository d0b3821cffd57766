import Foundation
import Lab
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ReportPageTests {
    let directory: String
    let page: [XMLElements.Element]
    let text: String

    init() throws {
        directory = try ReportFixture.write()
        try Report.build(directory: directory)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.html"))
        page = try #require(XMLElements.parse(data), "index.html is well-formed")
        text = String(decoding: data, as: UTF8.self)
    }

    @Test func pageLinksOnlyFilesThatExistAndInlinesEveryChart() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ids = Set(page.compactMap { $0.attributes["id"] })
        var files: [String] = []
        for element in page {
            for attribute in ["href", "src"] {
                guard let target = element.attributes[attribute] else { continue }
                #expect(!target.contains("://") && !target.hasPrefix("//"), "nothing from the network: \(target)")
                if target.hasPrefix("#") { #expect(ids.contains(String(target.dropFirst())), "anchor \(target)") } else { files.append(target) }
            }
        }
        for file in files { #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "index.html links \(file)") }
        let charts = try FileManager.default.contentsOfDirectory(atPath: directory + "/charts")
        #expect(Set(files.filter { $0.hasPrefix("charts/") }) == Set(charts.map { "charts/" + $0 }), "every chart is linked")
        #expect(files.contains("anomalies.jsonl"))
        // Each chart appears inline, exactly as in its file.
        #expect(page.filter { $0.name == "svg" }.count == charts.count)
        for chart in charts {
            #expect(text.contains(try String(contentsOfFile: directory + "/charts/" + chart, encoding: .utf8)), "\(chart) inline")
        }
        #expect(!text.contains("<script"), "nothing to run")
    }

    @Test func pageSaysTheScenariosInWordsWithTheSummaryTable() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(text.contains("The leader crashes at 1 s and restarts at 2 s."))
        #expect(text.contains("<li>at 1s: crash leader</li>"))
        #expect(page.filter { $0.name == "section" }.map { $0.attributes["id"] ?? "" } == ["suite", "scenario-partition", "scenario-crash"])
        // The summary table: one row per variant with the seed count and means over seeds.
        let rows = page.filter { $0.name == "tr" }.count
        #expect(rows == 2 * (1 + ReportFixture.variants.count))
        let cells = page.filter { $0.name == "td" }.map(\.text)
        let raft = try #require(cells.firstIndex(of: "raft"))
        #expect(Array(cells[raft...(raft + 3)]) == ["raft", "2", "70.00", "200.0"])
        #expect(cells.contains("false 1/2, true 1/2"))
    }

    @Test func pageShowsTheFirstAnomaliesOfEachRunWithTheirCount() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(text.contains("crash_raft_read_lease_s1: 7 anomalies"))
        let items = page.filter { $0.name == "li" && $0.text.contains("read ") }
        #expect(items.count == 5)
        #expect(page.contains { $0.name == "li" && $0.text == "… and 2 more" })
        #expect(text.contains("operations: [1,11]"))
        #expect(text.contains("None recorded"), "the partition scenario has none")
    }

    @Test func aNonLinearizableAnomalyIsDrawnAsLanesOfOperations() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let anomalies = directory + "/anomalies.jsonl"
        let good = try String(contentsOfFile: anomalies, encoding: .utf8)
        let operations = [(100, 1, 5_000, "5010", "put a", "ok"), (101, 2, 5_020, "5030", "put b", "ok"), (102, 3, 5_040, "5050", "get → a", "ok"),
                          (103, 2, 5_035, "null", "cas b→c ✗", "fail")].map { id, client, invoke, complete, op, outcome in
            #"{"id":\#(id),"client":\#(client),"node":\#(client),"invoke_us":\#(invoke),"complete_us":\#(complete),"op":"\#(op)","outcome":"\#(outcome)"}"#
        }
        let line = #"{"run":"crash_raft_read_lease_s1","run_anomalies":7,"kind":"non-linearizable","key":"k0","ops":[100,101,102,103],"#
            + #""explanation":"These 4 operations alone cannot be ordered.","unorderable":{"culprit":102,"minimal":true,"operations":["#
            + operations.joined(separator: ",") + "]}}\n"
        try (line + good).write(toFile: anomalies, atomically: true, encoding: .utf8)
        try Report.build(directory: directory)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.html"))
        let page = try #require(XMLElements.parse(data), "index.html is well-formed")
        let svg = try #require(page.first { $0.name == "svg" && $0.attributes["id"] == "chart-anomaly-crash_raft_read_lease_s1-1" })
        #expect(svg.attributes["height"] != nil)
        // A lane per client, a labelled bar per operation, the culprit in bold.
        let texts = page.filter { $0.name == "text" }.map(\.text)
        #expect(["c1 (n1)", "c2 (n2)", "c3 (n3)", "#100 put a", "#101 put b", "#103 cas b→c ✗ (timed out)"].allSatisfy(texts.contains), "\(texts)")
        #expect(page.contains { $0.name == "text" && $0.text == "#102 get → a" && $0.attributes["font-weight"] == "bold" })
        #expect(page.filter { $0.name == "g" && $0.attributes["class"] == "operation" }.count == 4)
        // The stale reads have no drawing.
        #expect(page.filter { $0.name == "figure" && $0.attributes["class"] == "unorderable" }.count == 1)

        try (line.replacingOccurrences(of: #""client":2"#, with: #""client":"two""#) + good).write(toFile: anomalies, atomically: true, encoding: .utf8)
        let error = try #require(throws: ReportError.self) { try Report.build(directory: directory) }
        #expect(error.description.contains("anomalies.jsonl: run crash_raft_read_lease_s1: unorderable.operations[1].client: expected a number"), "\(error)")
    }

    @Test func badInputNamesTheFileTheLineAndTheReason() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let anomalies = directory + "/anomalies.jsonl"
        let good = try String(contentsOfFile: anomalies, encoding: .utf8)
        try "{\"run\":\"x\",\"run_anomalies\":1,\"kind\":\"stale-read\"}\nnot json\n".write(toFile: anomalies, atomically: true, encoding: .utf8)
        let error = try #require(throws: ReportError.self) { try Report.build(directory: directory) }
        #expect(error.description.contains("anomalies.jsonl: line 2"), "\(error)")
        try good.write(toFile: anomalies, atomically: true, encoding: .utf8)

        let summary = directory + "/summary.csv"
        var lines = try String(contentsOfFile: summary, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: ",0.9000,", with: ",high,")
        try (lines.joined(separator: "\n") + "\n").write(toFile: summary, atomically: true, encoding: .utf8)
        let bad = try #require(throws: ReportError.self) { try Report.build(directory: directory) }
        #expect(bad.description.contains("summary.csv: line 4, availability: \"high\" is not a number"), "\(bad)")

        try FileManager.default.removeItem(atPath: directory + "/timeseries.csv")
        let missing = try #require(throws: ReportError.self) { try Report.build(directory: directory) }
        #expect(missing.description.contains("timeseries.csv: missing"), "\(missing)")
    }
}
