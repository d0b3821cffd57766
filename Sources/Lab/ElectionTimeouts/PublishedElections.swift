import ConsensusCore
import Foundation

/// What a study is scored against: the published per-trial times of the system it reproduces
/// (Ongaro's LogCabin trials behind the Raft paper's Figure 16) and, per range, the distance
/// another simulator reached to them (Howard's OCaml simulator, the best of its network models).
/// Both are CSV files named by the study file (`"reference": {"trials": …, "simulator": …}`),
/// relative to it.
struct PublishedElections: Sendable {
    /// The published election times per timeout range (milliseconds).
    var trials: [ClosedRange<TimeSpan>: [Double]]
    /// The other simulator's distance per range.
    var otherSimulator: [ClosedRange<TimeSpan>: Double]

    static func decode(_ field: JSONField, relativeTo file: String) throws(ScenarioError) -> PublishedElections {
        let object = try field.object(allowing: ["trials", "simulator"])
        let folder = (file as NSString).deletingLastPathComponent
        func rows(_ key: String, columns: [String]) throws(ScenarioError) -> [(range: ClosedRange<TimeSpan>, value: Double)] {
            let entry = try object.required(key)
            let path = (folder as NSString).appendingPathComponent(try entry.string())
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw entry.error("cannot read \(path)") }
            let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            guard lines.first == columns else { throw entry.error("\(path): expected the columns \(columns.joined(separator: ","))") }
            return try lines.dropFirst().enumerated().map { (number, line) throws(ScenarioError) in
                let numbers = line.map(Double.init)
                guard numbers.count == columns.count, let low = numbers[0], let high = numbers[1], let value = numbers.last!, low > 0, low <= high else {
                    throw entry.error("\(path) line \(number + 2): expected \(columns.count) numbers, a range 0 < min ≤ max first")
                }
                return (.microseconds(Int64(low * 1_000))...(.microseconds(Int64(high * 1_000))), value)
            }
        }
        var published = PublishedElections(trials: [:], otherSimulator: [:])
        for row in try rows("trials", columns: ["timeout_min_ms", "timeout_max_ms", "trial", "election_ms"]) {
            published.trials[row.range, default: []].append(row.value)
        }
        for row in try rows("simulator", columns: ["timeout_min_ms", "timeout_max_ms", "ks"]) { published.otherSimulator[row.range] = row.value }
        return published
    }

    /// How far `trials` are from the published ones of `range`; nil where none were published.
    func distance(_ range: ClosedRange<TimeSpan>, _ trials: [ElectionTrial]) -> Double? {
        guard let published = self.trials[range] else { return nil }
        return KolmogorovSmirnov.distance(trials.map { $0.electionTime?.milliseconds }, published)
    }
}
