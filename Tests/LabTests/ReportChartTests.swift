import Foundation
@testable import Lab
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A synthetic experiment folder with several backends and variants, two scenarios (a suite),
/// known numbers, roles, elections, latency quantiles and anomalies — what the report must draw.
struct ReportFixture {
    static let variants: [(protocol: String, variant: String)] = [("raft", ""), ("raft", "read=lease"), ("2pc", "")]
    static let scenarios = ["partition", "crash"]
    static let seeds: [UInt64] = [1, 2]

    static func label(_ backend: (protocol: String, variant: String)) -> String {
        backend.variant.isEmpty ? backend.protocol : "\(backend.protocol)[\(backend.variant)]"
    }

    static func runID(_ scenario: String, _ backend: (protocol: String, variant: String), _ seed: UInt64) -> String {
        ([scenario, backend.protocol] + (backend.variant.isEmpty ? [] : [backend.variant]) + ["s\(seed)"]).joined(separator: "_")
            .replacingOccurrences(of: "=", with: "_")
    }

    /// Availability per window (nil: no operation invoked), by variant index and seed.
    static func availability(_ variant: Int, _ seed: UInt64) -> [Double?] {
        switch (variant, seed) {
        case (0, 1): [1, 0.5, 1, 1]
        case (0, _): [1, 0, 1, 1]
        case (1, 1): [1, 1, 1, 1]
        case (1, _): [1, nil, 1, 1]
        default: [1, nil, 1, 1]
        }
    }

    /// Summary availability: raft 0.8 and 0.6 (mean 70 %), others 0.9.
    static func summaryAvailability(_ variant: Int, _ seed: UInt64) -> String { variant == 0 ? (seed == 1 ? "0.8000" : "0.6000") : "0.9000" }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("conlab-\(name)-\(UUID().uuidString)").path
    }

    /// Writes the folder and returns its path.
    static func write() throws -> String {
        let directory = temporary("report")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var summary = [ReportWriter.summaryColumns.joined(separator: ",")]
        var timeseries = [ReportWriter.timeseriesColumns.joined(separator: ",")]
        var faults = [ReportWriter.faultColumns.joined(separator: ",")]
        // The columns a folder had before the in-doubt ones: a report reads it all the same.
        var events = [ReportWriter.eventColumns.prefix(8).joined(separator: ",")]
        var latency = [ReportWriter.latencyColumns.joined(separator: ",")]
        for scenario in scenarios {
            for (index, backend) in variants.enumerated() {
                for seed in seeds {
                    let run = runID(scenario, backend, seed)
                    var row: [String: String] = Dictionary(uniqueKeysWithValues: ReportWriter.summaryColumns.map { ($0, "0") })
                    for (column, value) in ["experiment": "synthetic", "scenario": scenario, "protocol": backend.protocol, "variant": backend.variant,
                                            "nodes": "3", "seed": String(seed), "run": run, "sweep": "", "availability": summaryAvailability(index, seed),
                                            "throughput_ops_s": index == 2 ? "100.00" : "200.00", "msgs_per_op": index == 2 ? "" : "3.50",
                                            "recovery_ms": "", "linearizable": run == "crash_raft_read_lease_s1" ? "false" : "true",
                                            "stale_reads": run == "crash_raft_read_lease_s1" ? "7" : "0", "latency_p50_ms": "2.000",
                                            "latency_p99_ms": "9.000"] {
                        row[column] = value
                    }
                    summary.append(ReportWriter.summaryColumns.map { row[$0]! }.joined(separator: ","))
                    for (window, value) in availability(index, seed).enumerated() {
                        timeseries.append(([run, backend.protocol, String(window * 1000), "1000", value == nil ? "0" : "100", "0", "0",
                                           value.map { String(format: "%.4f", $0) } ?? "", value == nil ? "" : "2.000",
                                           value == nil ? "" : (window == 1 ? "50.000" : "5.000"), "", window == 1 ? "1" : "0"]
                                          // In "partition" window 1 cut n1 off: its majority side served all, its minority side nothing.
                                          + (scenario == "partition" && window == 1 ? ["1.0000", "0.0000"] : ["", ""])).joined(separator: ","))
                    }
                    faults.append("\(run),\(backend.protocol),1,1000.000,2000.000,crash leader → n1,100,0.5000,,,,")
                    let won = seed == 1 ? "1300.000" : "1500.000"
                    // Raft elects n1, loses it to a crash at 1 s and elects n2 300 ms (seed 1) or 500 ms (seed 2) later.
                    let raft = ["100.000,n1,role,leader term=1,leader,1,", "100.000,n2,role,follower term=1,follower,1,",
                                "100.000,n3,role,follower term=1,follower,1,", "100.000,,leader,n1 term=1,,1,n1"]
                    let raftElection = ["1000.000,,leader,none,,,", "1150.000,n2,role,candidate term=2,candidate,2,", "\(won),n2,role,leader term=2,leader,2,",
                                        "\(won),,leader,n2 term=2,,2,n2"]
                    let isRaft = backend.protocol == "raft"
                    events += (["0.000,n1,start,recovered 0 log entries,,,", "0.000,n2,start,recovered 0 log entries,,,",
                                "0.000,n3,start,recovered 0 log entries,,,"]
                        + (isRaft ? raft : []) + ["1000.000,,fault,crash leader → n1,,,", "1000.000,n1,crash,lost 0 unsynced storage operations,,,"]
                        + (isRaft ? raftElection : []) + ["2000.000,n1,restart,recovered 3 log entries,,,"]
                        + (isRaft ? ["2050.000,n1,role,follower term=2,follower,2,"] : [])).map { "\(run),\($0)" }
                    // Latency: seed 1 is 1 + 10q ms over 100 operations, seed 2 is 2 + 10q ms over 300.
                    for quantile in quantiles {
                        let value = (seed == 1 ? 1 : 2) + 10 * quantile
                        latency.append("\(run),\(backend.protocol),\(backend.variant),\(String(format: "%.3f", quantile)),\(String(format: "%.3f", value)),\(seed == 1 ? 100 : 300)")
                    }
                }
            }
        }
        let files = ["summary.csv": summary, "timeseries.csv": timeseries, "faults.csv": faults, "events.csv": events, "latency.csv": latency]
        for (name, lines) in files { try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        let experiment = """
        {"name":"synthetic","description":"A synthetic suite for the report tests.","suite":true,"scenarios":[\
        {"name":"partition","description":"A partition from 1 s to 2 s.","sweep":"","nodes":3,"duration":"4s","seeds":[1,2],\
        "backends":["raft","raft[read=lease]","2pc"],"faults":["at 1s: partition [n1] | [n2,n3]","at 2s: heal"]},\
        {"name":"crash","description":"The leader crashes at 1 s and restarts at 2 s.","sweep":"","nodes":3,"duration":"4s","seeds":[1,2],\
        "backends":["raft","raft[read=lease]","2pc"],"faults":["at 1s: crash leader","at 2s: restart affected"]}]}
        """
        try (experiment + "\n").write(toFile: directory + "/experiment.json", atomically: true, encoding: .utf8)
        // The first 5 of a run's 7 anomalies, as the runner excerpts them.
        let lines = (1...5).map {
            #"{"run":"crash_raft_read_lease_s1","run_anomalies":7,"kind":"stale-read","key":"k\#($0)","ops":[\#($0),\#($0 + 10)],"explanation":"read \#($0) saw an old value"}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/anomalies.jsonl", atomically: true, encoding: .utf8)
        return directory
    }

    static let quantiles: [Double] = (0...19).map { Double($0) * 0.05 } + [0.99, 0.999, 1]
}

/// Elements of an XML document in order, as Foundation's parser sees them.
final class XMLElements: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }

    var elements: [Element] = []
    private var open: [Int] = []

    /// Parses `data`; nil when it is not well-formed.
    static func parse(_ data: Data) -> [Element]? {
        let parser = XMLParser(data: data), collector = XMLElements()
        parser.delegate = collector
        return parser.parse() ? collector.elements : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
}

/// Reads positions back from a chart through its own tick labels, so tests check the drawing
/// against the data without knowing the layout.
struct ChartReader {
    let elements: [XMLElements.Element]

    init(_ path: String) throws {
        elements = try #require(XMLElements.parse(try Data(contentsOf: URL(fileURLWithPath: path))), "\(path) is not well-formed XML")
    }

    func tick(_ kind: String, _ label: String) throws -> Double {
        let element = try #require(elements.first { $0.attributes["class"] == kind && $0.text == label }, "no \(kind) \(label)")
        return kind == "ytick" ? Double(element.attributes["y"]!)! - 4 : Double(element.attributes["x"]!)!
    }

    /// Maps a value to a pixel through two labelled ticks (linear, or logarithmic when `log`).
    func pixel(_ kind: String, _ value: Double, _ low: (String, Double), _ high: (String, Double), log: Bool = false) throws -> Double {
        let a = try tick(kind, low.0), b = try tick(kind, high.0)
        let f = log ? (log10(value) - log10(low.1)) / (log10(high.1) - log10(low.1)) : (value - low.1) / (high.1 - low.1)
        return a + f * (b - a)
    }

    /// The elements inside each `<g data-series=…>`, by series, in document order.
    var series: [(label: String, elements: [XMLElements.Element])] {
        var result: [(String, [XMLElements.Element])] = []
        var current: String?
        for element in elements {
            if element.name == "g", let label = element.attributes["data-series"] { current = label; result.append((label, [])); continue }
            if element.name == "g" { current = nil }
            if current != nil { result[result.count - 1].1.append(element) }
        }
        return result
    }

    func points(_ element: XMLElements.Element) -> [(Double, Double)] {
        element.attributes["points"]!.split(separator: " ").map { pair in
            let xy = pair.split(separator: ",")
            return (Double(xy[0])!, Double(xy[1])!)
        }
    }
}

@Suite struct ReportChartTests {
    let directory: String

    init() throws {
        directory = try ReportFixture.write()
        try Report.build(directory: directory)
    }

    func chart(_ name: String) throws -> ChartReader { try ChartReader(directory + "/charts/\(name).svg") }

    @Test func everyChartIsWellFormedXMLWithASeriesForEveryVariant() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/charts").sorted()
        let kinds = ["availability", "throughput", "latency-p50", "latency-p99", "latency-cdf", "bars", "roles", "elections"]
        let expected = ReportFixture.scenarios.flatMap { scenario in kinds.map { "\(scenario)-\($0).svg" } }
            + BarChart.Measure.all.map { "suite-\($0.key).svg" }
        #expect(files == expected.sorted())
        let labels = Set(ReportFixture.variants.map(ReportFixture.label))
        for file in files {
            let reader = try ChartReader(directory + "/charts/" + file)
            #expect(reader.elements.first?.name == "svg")
            #expect(Set(reader.series.map(\.label)) == labels, "\(file)")
            #expect(reader.elements.contains { $0.name == "desc" && $0.text.contains("seed") }, "\(file) says how seeds were combined")
        }
    }

    @Test func availabilityLineIsTheMeanPerWindowWithGaps() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = try chart("partition-availability")
        func at(_ t: Double, _ percent: Double) throws -> (Double, Double) {
            (try reader.pixel("xtick", t, ("0", 0), ("4", 4)), try reader.pixel("ytick", percent, ("0", 0), ("100", 100)))
        }
        // The first panel's lines: all clients (the sides follow in panels of their own).
        let series = Dictionary(reader.series.map { ($0.label, $0.elements) }, uniquingKeysWith: { first, _ in first })
        // raft: seed 1 has 50 % in window 2, seed 2 has 0 %: the mean is 25 %.
        let raft = try #require(series["raft"]?.filter { $0.name == "polyline" })
        #expect(raft.count == 1)
        let expected = try [at(0.5, 100), at(1.5, 25), at(2.5, 100), at(3.5, 100)]
        let actual = reader.points(raft[0])
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) { #expect(abs(a.0 - e.0) < 0.02 && abs(a.1 - e.1) < 0.02, "\(a) vs \(e)") }
        // raft[read=lease]: window 2 only in seed 1, so its mean is seed 1's value.
        let lease = try #require(series["raft[read=lease]"]?.first { $0.name == "polyline" })
        #expect(reader.points(lease).count == 4)
        // 2pc: no seed invoked anything in window 2, so the line breaks there.
        let twoPC = try #require(series["2pc"]).filter { $0.name == "polyline" }
        #expect(twoPC.count == 1 && reader.points(twoPC[0]).count == 2)
        // The fault window of the first seed is shaded from 1 s to 2 s.
        let band = try #require(reader.elements.first { $0.attributes["class"] == "fault" })
        #expect(abs(Double(band.attributes["x"]!)! - (try at(1, 0)).0) < 0.02)
        #expect(abs(Double(band.attributes["width"]!)! - ((try at(2, 0)).0 - (try at(1, 0)).0)) < 0.02)
    }

    @Test func barHeightIsTheMeanOverSeedsWithAWhiskerAndALinearizabilityMark() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = try chart("suite-availability")
        let zero = try reader.tick("xtick", "0"), hundred = try reader.tick("xtick", "100")
        // The first raft bar (scenario "partition"), named beside it: availability 0.8 and 0.6, mean 70 %.
        let raft = try #require(reader.series.first { $0.label == "raft" })
        #expect(raft.elements.contains { $0.name == "text" && $0.text == "raft" }, "the bar is named")
        let bar = try #require(raft.elements.first { $0.name == "rect" })
        #expect(abs(Double(bar.attributes["x"]!)! - zero) < 0.02)
        #expect(abs(Double(bar.attributes["width"]!)! - 0.7 * (hundred - zero)) < 0.02)
        let whisker = try #require(raft.elements.first { $0.name == "line" })
        #expect(abs(Double(whisker.attributes["x1"]!)! - (zero + 0.6 * (hundred - zero))) < 0.02)
        #expect(abs(Double(whisker.attributes["x2"]!)! - (zero + 0.8 * (hundred - zero))) < 0.02)
        // Every scenario's panel is named.
        for scenario in ReportFixture.scenarios {
            #expect(reader.elements.contains { $0.name == "text" && $0.text == scenario && $0.attributes["font-weight"] == "bold" }, "\(scenario)")
        }
        // One seed of raft[read=lease] in "crash" failed the linearizability check: 50 % of its seeds.
        let failures = try chart("suite-linearizability")
        let marks = failures.series.filter { $0.label == "raft[read=lease]" }.flatMap(\.elements).filter { $0.name == "text" }.map(\.text)
        #expect(marks.contains("50 ✗1/2"), "\(marks)")
        #expect(!failures.series.filter { $0.label == "raft" }.flatMap(\.elements).contains { $0.text.contains("✗") })
        // Each kind of anomaly has a chart of its own: raft[read=lease]'s 7 stale reads in one of two seeds.
        let stale = try chart("suite-stale-reads")
        #expect(stale.series.filter { $0.label == "raft[read=lease]" }.flatMap(\.elements).contains { $0.text == "3.5" })
        // msgs_per_op is empty for 2pc: no bar, "n/a".
        let messages = try chart("suite-messages")
        #expect(messages.series.filter { $0.label == "2pc" }.flatMap(\.elements).contains { $0.text == "n/a" })
    }

    /// A scenario whose partition split the clients gets a panel per side; one without does not.
    @Test func availabilityOverTimeHasAPanelPerSideOfAPartition() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let titles = { (reader: ChartReader) in reader.elements.filter { $0.name == "text" && $0.attributes["font-weight"] == "bold" }.map(\.text) }
        let partition = try chart("partition-availability")
        #expect(titles(partition).contains("clients on the majority side") && titles(partition).contains("clients on the minority side"))
        #expect(partition.series.filter { $0.label == "raft" }.count == 3, "raft drawn in all three panels")
        #expect(!titles(try chart("crash-availability")).contains("clients on the minority side"))
    }

    /// `conlab report --png`: charts as PNGs, where rsvg-convert is installed.
    @Test func chartsExportAsPNGs() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard PNGExport.executable("rsvg-convert") != nil else {
            print("chartsExportAsPNGs skipped: no rsvg-convert; install it with `apt-get install -y librsvg2-bin`")
            return
        }
        // A few kinds of chart (drawing each takes rsvg-convert a few hundred milliseconds).
        let charts = ["charts/suite-availability.svg", "charts/partition-availability.svg", "charts/crash-roles.svg"]
        let written = try PNGExport.export(directory: directory, charts: charts)
        #expect(written.count == charts.count)
        for png in written {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + png))
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(png) is a PNG")
        }
    }

    @Test func latencyCDFPoolsSeedsWeightedByTheirOperations() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = try chart("crash-latency-cdf")
        let line = try #require(reader.series.first { $0.label == "raft" }?.elements.first { $0.name == "polyline" })
        // At 2 ms seed 1 (100 ops, 1 + 10q ms) is at q = 0.1 and seed 2 (300 ops, 2 + 10q ms) at 0:
        // pooled (100 × 0.1 + 300 × 0) / 400 = 0.025. At 12 ms both are at 1.
        func at(_ x: Double, _ p: Double) throws -> (Double, Double) {
            (try reader.pixel("xtick", x, ("1", 1), ("10", 10), log: true), try reader.pixel("ytick", p, ("0.0", 0), ("1.0", 1)))
        }
        let points = reader.points(line)
        for (x, p) in [(2.0, 0.025), (12.0, 1.0), (1.0, 0.0)] {
            let expected = try at(x, p)
            #expect(points.contains { abs($0.0 - expected.0) < 0.02 && abs($0.1 - expected.1) < 0.02 }, "(\(x) ms, \(p)) in \(points)")
        }
    }

    @Test func electionCDFHasEveryElectionOfEverySeed() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = try chart("crash-elections")
        let line = try #require(reader.series.first { $0.label == "raft" }?.elements.first { $0.name == "polyline" })
        let x0 = try reader.tick("xtick", "0"), y0 = try reader.tick("ytick", "0.0"), y1 = try reader.tick("ytick", "1.0")
        let xTicks = reader.elements.filter { $0.attributes["class"] == "xtick" }
        let last = try #require(xTicks.last)
        let scale = (Double(last.attributes["x"]!)! - x0) / Double(last.text)!
        let expected = [(300.0, 0.0), (300, 0.5), (500, 0.5), (500, 1)].map { (x0 + $0.0 * scale, y0 + $0.1 * (y1 - y0)) }
        let points = reader.points(line)
        #expect(points.count == expected.count)
        for (a, e) in zip(points, expected) { #expect(abs(a.0 - e.0) < 0.02 && abs(a.1 - e.1) < 0.02, "\(a) vs \(e)") }
        // 2pc reports no leader: no elections, said in the legend.
        #expect(reader.elements.contains { $0.text == "2pc (no elections)" })
    }

    @Test func roleTimelineShowsRolesTermsAndDownTime() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reader = try chart("crash-roles")
        let x = { (t: Double) in try reader.pixel("xtick", t, ("0", 0), ("4", 4)) }
        let raft = try #require(reader.series.first { $0.label == "raft" }).elements
        // n1 is down from its crash at 1 s to its restart at 2 s (the hatched rectangle).
        let down = try #require(raft.first { $0.attributes["fill"]?.hasSuffix("-hatch5)") == true })
        #expect(abs(Double(down.attributes["x"]!)! - (try x(1))) < 0.02)
        #expect(abs(Double(down.attributes["width"]!)! - ((try x(2)) - (try x(1)))) < 0.02)
        #expect(raft.contains { $0.name == "text" && $0.text == "t2" }, "n2 leads in term 2")
        #expect(reader.elements.contains { $0.text == "leader" } && reader.elements.contains { $0.text == "candidate" })
        let twoPC = try #require(reader.series.first { $0.label == "2pc" }).elements
        // An atomic-commit backend has no roles; its in-doubt lanes are drawn only when some participant waited.
        #expect(twoPC.contains { $0.text.hasSuffix(": no roles; no participant in doubt for 1,000 ms or more") })
    }

    @Test func sameFilesGiveTheSameBytes() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try snapshot(directory)
        try Report.build(directory: directory)
        #expect(try snapshot(directory) == first)
    }

    func snapshot(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/charts") {
            files["charts/" + name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/charts/" + name))
        }
        files["index.html"] = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.html"))
        return files
    }
}
