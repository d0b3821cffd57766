import ConsensusCore
import Foundation
import Simulator

/// The Raft paper's Figure 16 (Ongaro & Ousterhout 2014, §9.3): how long a 5-server cluster is
/// without a leader after the leader crashes, for several election-timeout ranges.
///
/// A study file: `{"version": 1, "electionTimeouts": {"name": …, "trials": 1000, "graphs": [{"name":
/// "top", "ranges": [["150ms", "150ms"], …]}], …}}`. The setup is the paper's (see `ElectionTrials`).
public struct ElectionTimeoutStudy: Sendable {
    public struct Graph: Sendable {
        public var name: String
        public var title: String
        public var ranges: [ClosedRange<TimeSpan>]
        /// The paper's top graph spans seconds (logarithmic axis); its bottom graph, milliseconds.
        public var logarithmic: Bool
    }

    public var name: String
    public var description: String
    public var file: String
    public var nodes: Int
    /// One-way network latency; with `fsyncLatency` it makes the paper's broadcast time
    /// (round trip plus disk write, about 15 ms).
    public var latency: LatencyDistribution
    public var fsyncLatency: TimeSpan
    /// CPU time per input.
    public var processing: LatencyDistribution
    /// How late timers fire: the scheduling noise of real machines, without which identical
    /// timeouts (150–150 ms) would stay in lockstep forever.
    public var timerSlack: LatencyDistribution?
    public var trials: Int
    public var seed: UInt64
    /// Followers that miss the newest entry before each crash, so they cannot win (the paper: 2 of 4).
    public var laggingFollowers: Int
    /// A trial still without a leader after this long is recorded as unfinished.
    public var giveUpAfter: TimeSpan
    public var graphs: [Graph]
    /// The published trials each range is scored against, and another simulator's score.
    var reference: PublishedElections?

    /// Every distinct range, in graph order.
    public var ranges: [ClosedRange<TimeSpan>] {
        var result: [ClosedRange<TimeSpan>] = []
        for range in graphs.flatMap(\.ranges) where !result.contains(range) { result.append(range) }
        return result
    }

    static let keys = ["name", "description", "nodes", "latency", "fsyncLatency", "processing", "timerSlack", "trials", "seed", "laggingFollowers",
                       "giveUpAfter", "graphs", "reference"]

    static func decode(_ root: JSONField) throws(ScenarioError) -> ElectionTimeoutStudy {
        let top = try root.object(allowing: ["version", "electionTimeouts"])
        guard try top.required("version").int(in: 1...Int.max) == ScenarioFile.version else {
            throw top["version"]!.error("unsupported version; this conlab reads version \(ScenarioFile.version)")
        }
        let field = try top.required("electionTimeouts")
        let object = try field.object(allowing: keys)
        let nodes = try object["nodes"]?.int(in: 3...ScenarioLimits.nodes) ?? 5
        // A trial ends by this time at the latest: no latency of the study may reach it.
        let giveUpAfter = try object["giveUpAfter"]?.duration() ?? .seconds(30)
        guard giveUpAfter > .zero else { throw object["giveUpAfter"]!.error("must be longer than zero") }
        var study = ElectionTimeoutStudy(
            name: try object["name"]?.string() ?? "election-timeouts", description: try object["description"]?.string() ?? "",
            file: root.file, nodes: nodes, latency: try object["latency"].map { field throws(ScenarioError) in try ScenarioFile.latency(field, below: giveUpAfter) } ?? .uniform(.milliseconds(4)...(.milliseconds(6))),
            fsyncLatency: try object["fsyncLatency"]?.duration(below: giveUpAfter) ?? .milliseconds(5),
            processing: try object["processing"].map { field throws(ScenarioError) in try ScenarioFile.latency(field, below: giveUpAfter) } ?? .fixed(.microseconds(10)),
            timerSlack: try object["timerSlack"].map { field throws(ScenarioError) in try ScenarioFile.latency(field, below: giveUpAfter) },
            trials: try object["trials"]?.int(in: 1...1_000_000) ?? 1_000,
            seed: UInt64(try object["seed"]?.int(in: 0...Int.max) ?? 1),
            laggingFollowers: try object["laggingFollowers"]?.int(in: 0...(nodes - 1) / 2) ?? 2,
            giveUpAfter: giveUpAfter, graphs: [])
        for graph in try object.required("graphs").array() {
            let g = try graph.object(allowing: ["name", "title", "ranges", "logarithmic"])
            let ranges = try g.required("ranges").array().map { item throws(ScenarioError) -> ClosedRange<TimeSpan> in
                let bounds = try item.array()
                guard bounds.count == 2 else { throw item.error("expected [lowest, highest] election timeout") }
                let low = try bounds[0].duration(), high = try bounds[1].duration()
                guard low > .zero, low <= high else { throw item.error("expected 0 < lowest ≤ highest") }
                return low...high
            }
            guard !ranges.isEmpty else { throw try g.required("ranges").error("needs at least one range") }
            study.graphs.append(Graph(name: try g.required("name").string(), title: try g["title"]?.string() ?? "",
                                      ranges: ranges, logarithmic: try g["logarithmic"]?.bool() ?? false))
        }
        guard !study.graphs.isEmpty else { throw try object.required("graphs").error("needs at least one graph") }
        study.reference = try object["reference"].map { field throws(ScenarioError) in try PublishedElections.decode(field, relativeTo: root.file) }
        return study
    }

    /// The study in a file, or nil when the file is an ordinary scenario or suite.
    static func load(document: JSONValue, file: String) throws(ScenarioError) -> ElectionTimeoutStudy? {
        guard document["electionTimeouts"] != nil else { return nil }
        return try decode(JSONField(value: document, path: "$", file: file))
    }

    /// `150–300 ms`, as the paper labels its curves.
    static func label(_ range: ClosedRange<TimeSpan>) -> String {
        "\(JSONValue.format(range.lowerBound.milliseconds))–\(JSONValue.format(range.upperBound.milliseconds)) ms"
    }
}
