import ConsensusCore
import Foundation
import Testing
@testable import Checker

/// Seeded sweeps over generated histories. 200 seeds by default, 2000 with CONLAB_FULL=1; a failure
/// names its seed, and `configuration(seed:)` rebuilds the history.
@Suite struct CheckerPropertyTests {
    static let seeds: [UInt64] = Array(1...(ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? 2000 : 200))

    /// Small, crowded histories: few keys, heavily overlapping intervals, many timeouts.
    static func configuration(seed: UInt64) -> HistoryGenerator.Configuration {
        var random = DeterministicRandom(seed: seed, label: "property-shape")
        return HistoryGenerator.Configuration(
            operations: random.uniform(5...120), clients: random.uniform(1...6), keys: random.uniform(1...3),
            indeterminateFraction: [0, 0.05, 0.2][random.index(below: 3)],
            refusedFraction: 0.05, duration: 50...3_000, think: 0...300, lateEffect: 5_000)
    }

    static func replay(_ seed: UInt64) -> String {
        "replay: HistoryGenerator.generate(CheckerPropertyTests.configuration(seed: \(seed)), seed: \(seed))"
    }

    @Test func generatedHistoriesAreLinearizableWithoutAnomalies() throws {
        for seed in Self.seeds {
            let generated = HistoryGenerator.generate(Self.configuration(seed: seed), seed: seed)
            let report = try Checker.check(CheckInput(history: generated.operations, finalState: generated.finalState))
            #expect(report.linearizable == .linearizable, "\(Self.replay(seed))")
            #expect(report.anomalies.isEmpty, "\(report.anomalies.first?.explanation ?? ""); \(Self.replay(seed))")
            if report.linearizable != .linearizable || !report.anomalies.isEmpty { return }
        }
    }

    @Test func aCorruptedReadIsAlwaysFlagged() throws {
        var kinds: [CorruptedRead.Kind: Int] = [:]
        for seed in Self.seeds {
            let generated = HistoryGenerator.generate(Self.configuration(seed: seed), seed: seed)
            guard let corrupted = generated.corruptingOneRead(seed: seed) else { continue }
            kinds[corrupted.kind, default: 0] += 1
            let report = try Checker.check(CheckInput(history: corrupted.operations))
            let context = "read #\(corrupted.readID) \(corrupted.kind.rawValue) \(corrupted.replacement); \(Self.replay(seed))"
            #expect(report.linearizable == .notLinearizable, "\(context)")
            if corrupted.kind == .stale {
                #expect(report.anomalies.contains { $0.kind == .staleRead && $0.operations.contains(corrupted.readID) }, "\(context)")
            }
            if report.linearizable != .notLinearizable { return }
        }
        // The sweep exercised every kind of corruption.
        #expect(kinds.keys.count == 3, "\(kinds)")
    }

    @Test func verdictsAreDeterministic() throws {
        let generated = HistoryGenerator.generate(.init(operations: 2_000, clients: 8, keys: 3, indeterminateFraction: 0.05), seed: 99)
        let corrupted = try #require(generated.corruptingOneRead(seed: 4))
        let first = try Checker.check(CheckInput(history: corrupted.operations))
        let second = try Checker.check(CheckInput(history: corrupted.operations.reversed()))
        #expect(first.keys == second.keys)
        #expect(first.anomaliesJSONL == second.anomaliesJSONL)
        #expect(first.rendered() == second.rendered())
        // Keys checked in parallel, as `conlab check` does: the same report.
        let parallel = try Checker.check(CheckInput(history: corrupted.operations, finalState: generated.finalState), jobs: 3)
        let serial = try Checker.check(CheckInput(history: corrupted.operations, finalState: generated.finalState))
        #expect(parallel.keys == serial.keys)
        #expect(parallel.anomaliesJSONL == serial.anomaliesJSONL)
        #expect(parallel.rendered() == serial.rendered())
        #expect(!serial.anomalies.isEmpty && serial.keys.count == 3)
    }

    @Test func largerHistoriesStayLinearizable() throws {
        for seed: UInt64 in 1...3 {
            let generated = HistoryGenerator.generate(.init(operations: 5_000, clients: 16, keys: 4, indeterminateFraction: 0.05), seed: seed)
            let report = try Checker.check(CheckInput(history: generated.operations, finalState: generated.finalState))
            #expect(report.linearizable == .linearizable, "seed \(seed)")
            #expect(report.anomalies.isEmpty, "seed \(seed)")
        }
    }
}
