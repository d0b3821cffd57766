import ConsensusCore
import Foundation

/// `conlab check FILE.jsonl`: the checker as a command. The CLI parses its arguments, calls `run`,
/// prints `text` and exits with `exitStatus`.
package enum CheckCommand {
    package struct Options: Sendable {
        package var budget: CheckBudget
        /// Write `anomalies.jsonl` next to the history.
        package var writeAnomalies: Bool
        /// Anomalies shown in the text; the file always has all of them.
        package var anomaliesShown: Int

        package init(budget: CheckBudget = .standard, writeAnomalies: Bool = false, anomaliesShown: Int = 20) {
            self.budget = budget
            self.writeAnomalies = writeAnomalies
            self.anomaliesShown = anomaliesShown
        }
    }

    package struct Result: Sendable {
        package var text: String
        /// 0 linearizable, 1 not linearizable or another anomaly, 2 bad input, 3 unknown.
        package var exitStatus: Int32
    }

    package static let badInputStatus: Int32 = 2

    package static func run(path: String, options: Options = Options()) -> Result {
        let history: [HistoryOperation]
        let report: CheckReport
        do {
            history = try HistoryReader.read(path: path)
            report = try Checker.check(CheckInput(history: history), budget: options.budget, jobs: ProcessInfo.processInfo.activeProcessorCount)
        } catch {
            return Result(text: "error: \(error)\n", exitStatus: badInputStatus)
        }
        var text = "history: \(path) (\(history.count) operations)\n"
        text += report.rendered(anomaliesShown: options.anomaliesShown)
        if options.writeAnomalies {
            let target = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("anomalies.jsonl")
            // The system's reason (strerror), not Foundation's wording, which need not name one.
            guard FileManager.default.createFile(atPath: target.path, contents: Data(report.anomaliesJSONL.utf8)) else {
                return Result(text: text + "error: cannot write \(target.path): \(String(cString: strerror(errno)))\n", exitStatus: badInputStatus)
            }
            text += "anomalies written to \(target.path)\n"
        }
        return Result(text: text, exitStatus: report.exitStatus)
    }
}

extension CheckReport {
    /// The report as text: the verdict, the keys that are not plainly linearizable, the counts and
    /// the first anomalies.
    package func rendered(anomaliesShown: Int = 20) -> String {
        let counts = [Verdict.linearizable, .notLinearizable, .unknown].map { verdict in keys.filter { $0.verdict == verdict }.count }
        var text = "linearizable: \(linearizable.rawValue)\n"
        text += "keys: \(keys.count) (\(counts[0]) linearizable, \(counts[1]) not, \(counts[2]) unknown)\n"
        for key in keys where key.verdict != .linearizable {
            text += "  key \(quoted(key.key)): \(key.verdict.rawValue) (\(key.operations) operations, \(key.steps) search steps"
            text += (key.note.map { "; \($0)" } ?? "") + ")\n"
        }
        text += "stale reads: \(staleReads)\n"
        if let lostWrites { text += "lost writes: \(lostWrites)\n" }
        if let divergentKeys { text += "divergent keys: \(divergentKeys)\n" }
        if let atomicityViolations { text += "atomicity violations: \(atomicityViolations)\n" }
        text += "anomalies: \(anomalies.count)\n"
        for anomaly in anomalies.prefix(anomaliesShown) {
            text += "- \(anomaly.kind.rawValue): \(anomaly.explanation)\n"
        }
        if anomalies.count > anomaliesShown { text += "- … and \(anomalies.count - anomaliesShown) more\n" }
        return text
    }
}
