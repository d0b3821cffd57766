import ConsensusCore
import Foundation

/// `conlab bench checker`: how long the checker takes on large linearizable histories, and how
/// much memory it needs. Run it from a release build; the figures mean nothing in debug.
package enum CheckerBenchmark {
    package struct Measurement: Sendable {
        var operations: Int
        var keys: Int
        var clients: Int
        /// The read corrupted to make the history non-linearizable, if any.
        var corruption: CorruptedRead.Kind?
        var verdict: Verdict
        /// Search steps over all keys.
        var steps: Int
        var generateSeconds: Double
        var checkSeconds: Double
        /// Processor time of the check: on a machine shared with other work, the steadier figure.
        var checkCPUSeconds: Double
        /// The process's peak resident memory after the check (VmHWM), in bytes; `nil` if unknown.
        var peakMemoryBytes: Int?

        package var line: String {
            let memory = peakMemoryBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "unknown"
            let variant = corruption.map { ", \($0.rawValue) read" } ?? ""
            return "\(operations) operations, \(keys) keys, \(clients) clients\(variant): \(verdict.rawValue) in "
                + String(format: "%.3f s (%.3f s CPU", checkSeconds, checkCPUSeconds) + ", \(steps) steps; generated in "
                + String(format: "%.3f s", generateSeconds) + "; peak memory \(memory))"
        }
    }

    /// The standard cases: 10^5 operations (the target is at most one second) and 10^6, on 10
    /// keys from 16 clients with 1% indeterminate operations.
    package static func standard(seed: UInt64 = 1) -> [Measurement] {
        [100_000, 1_000_000].map { measure(operations: $0, keys: 10, clients: 16, seed: seed) }
    }

    /// One hot key: 4,000 operations from 8 to 64 clients, linearizable and with one read
    /// corrupted each way that makes it non-linearizable (the target is each decided within one
    /// second), and 100,000 operations from 32 clients (within five seconds).
    package static func hotKey(seed: UInt64 = 1) -> [Measurement] {
        var cases: [Measurement] = []
        for clients in [8, 16, 32, 64] {
            for corruption in [nil, CorruptedRead.Kind.stale, .lostWrite, .future] {
                cases.append(measure(operations: 4_000, keys: 1, clients: clients, corruption: corruption, seed: seed))
            }
        }
        cases.append(measure(operations: 100_000, keys: 1, clients: 32, seed: seed))
        return cases
    }

    /// Writes the histories of the standard and hot-key cases as `history.jsonl` files into
    /// `directory` (which must exist), for timing `conlab check` end to end or another checker on
    /// the same input; returns the paths written.
    package static func writeHistories(to directory: String, seed: UInt64 = 1) -> [String] {
        var cases: [(operations: Int, keys: Int, clients: Int, corruption: CorruptedRead.Kind?)] =
            [(100_000, 10, 16, nil), (1_000_000, 10, 16, nil), (100_000, 1, 32, nil)]
        for clients in [8, 16, 32, 64] {
            for corruption in [nil, CorruptedRead.Kind.stale, .lostWrite, .future] { cases.append((4_000, 1, clients, corruption)) }
        }
        var written: [String] = []
        for c in cases {
            guard let input = input(operations: c.operations, keys: c.keys, clients: c.clients, corruption: c.corruption, seed: seed) else { continue }
            let name = "\(c.operations)ops-\(c.keys)keys-\(c.clients)clients" + (c.corruption.map { "-\($0.rawValue)" } ?? "") + ".jsonl"
            let path = (directory as NSString).appendingPathComponent(name)
            let text = input.history.map { $0.jsonLine + "\n" }.joined()
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { continue }
            written.append(path)
        }
        return written
    }

    /// What a case checks: the generated history with its final state, or with one read corrupted
    /// if asked (`nil` if no read of it can be).
    package static func input(operations: Int, keys: Int, clients: Int, indeterminateFraction: Double = 0.01,
                              corruption: CorruptedRead.Kind? = nil, seed: UInt64 = 1) -> CheckInput? {
        let configuration = HistoryGenerator.Configuration(
            operations: operations, clients: clients, keys: keys, indeterminateFraction: indeterminateFraction)
        let generated = HistoryGenerator.generate(configuration, seed: seed)
        guard let corruption else { return CheckInput(history: generated.operations, finalState: generated.finalState) }
        return generated.corruptingOneRead(seed: seed, kind: corruption).map { CheckInput(history: $0.operations) }
    }

    static func measure(operations: Int, keys: Int, clients: Int, indeterminateFraction: Double = 0.01,
                        corruption: CorruptedRead.Kind? = nil, seed: UInt64 = 1) -> Measurement {
        let clock = ContinuousClock()
        var generated: CheckInput?
        let generateTime = clock.measure {
            generated = Self.input(operations: operations, keys: keys, clients: clients, indeterminateFraction: indeterminateFraction,
                                   corruption: corruption, seed: seed)
        }
        let input = generated ?? CheckInput(history: [])
        var report: CheckReport?
        let cpuBefore = processorSeconds()
        let checkTime = clock.measure { report = try? Checker.check(input) }
        let cpu = processorSeconds() - cpuBefore
        return Measurement(
            operations: operations, keys: keys, clients: clients, corruption: corruption, verdict: report?.linearizable ?? .unknown,
            steps: report?.keys.reduce(0) { $0 + $1.steps } ?? 0,
            generateSeconds: seconds(generateTime), checkSeconds: seconds(checkTime), checkCPUSeconds: cpu,
            peakMemoryBytes: peakMemoryBytes())
    }

    static func seconds(_ duration: Swift.Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Processor time used by this process so far.
    static func processorSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Peak resident set size: `VmHWM` from /proc/self/status on Linux, `getrusage` elsewhere.
    static func peakMemoryBytes() -> Int? {
        #if os(Linux)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
        #else
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        return Int(usage.ru_maxrss)
        #endif
    }
}

