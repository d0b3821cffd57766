import ConsensusCore
import Foundation
import Testing
@testable import Checker

/// The checker's fast path — the zone pruning of the search and the direct proofs of a violation
/// (`ViolationProofs`) — against the search without the zone pruning, on generated histories with
/// unique values and on those histories with one read changed. 1,000 seeds by default, 10,000
/// with CONLAB_FULL=1; a failure names its seed and mutation.
@Suite struct FastPathTests {
    static let seeds: [UInt64] = Array(1...(ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? 10_000 : 1_000))

    /// Hot keys: one or two keys, up to 12 clients, many timeouts.
    static func configuration(seed: UInt64) -> HistoryGenerator.Configuration {
        var random = DeterministicRandom(seed: seed, label: "fast-path-shape")
        return HistoryGenerator.Configuration(
            operations: random.uniform(5...60), clients: random.uniform(1...12), keys: random.uniform(1...2),
            indeterminateFraction: [0, 0.05, 0.2][random.index(below: 3)],
            refusedFraction: 0.05, duration: 50...3_000, think: 0...300, lateEffect: 5_000)
    }

    /// The generated history and its mutations: a read corrupted each impossible way, and a read
    /// given another value of its key (sometimes still linearizable, which is what tests that the
    /// proofs never fire on a good history).
    static func variants(seed: UInt64) -> [(name: String, history: [HistoryOperation])] {
        let generated = HistoryGenerator.generate(configuration(seed: seed), seed: seed)
        var variants = [("generated", generated.operations)]
        for kind in CorruptedRead.Kind.allCases {
            if let corrupted = generated.corruptingOneRead(seed: seed, kind: kind) { variants.append((kind.rawValue, corrupted.operations)) }
        }
        var random = DeterministicRandom(seed: seed, label: "fast-path-swap")
        let reads = generated.operations.filter { if case .get = $0.command, case .ok = $0.outcome { true } else { false } }
        if let read = reads.isEmpty ? nil : reads[random.index(below: reads.count)] {
            let values = generated.operations.filter { $0.command.key == read.command.key }.compactMap { operation -> String? in
                switch operation.command {
                case .put(_, let value), .cas(_, _, let value): value
                case .get: if case .ok(.value(let value)) = operation.outcome { value } else { nil }
                case .append, .delete: nil
                }
            }
            var swapped = generated.operations
            swapped[read.id].outcome = .ok(.value(values.isEmpty || random.chance(0.1) ? nil : values[random.index(below: values.count)]))
            variants.append(("swapped", swapped))
        }
        return variants
    }

    @Test func fastPathAgreesWithTheSearchWithoutZones() throws {
        var decided: [String: Int] = [:]
        for seed in Self.seeds {
            for (name, history) in Self.variants(seed: seed) {
                for (key, operations) in Checker.partitionByKey(Checker.inIDOrder(history)) {
                    let context = "seed \(seed), \(name), key \(key): replay with FastPathTests.variants(seed: \(seed))"
                    let prepared = KeyHistory(key: key, operations: operations)
                    var reference = LinearizabilitySearch(prepared, zones: false)
                    let expected = reference.run(maxSteps: 300_000, deadline: nil).verdict
                    var pruned = LinearizabilitySearch(prepared)
                    let fast = pruned.run(maxSteps: 300_000, deadline: nil).verdict
                    if expected != .unknown, fast != .unknown { #expect(fast == expected, "\(context)") }
                    let proof = ViolationProofs.find(prepared)
                    if let proof {
                        #expect(expected != .linearizable, "\(proof.explanation); \(context)")
                        decided["proof", default: 0] += 1
                    }
                    let (verdict, _) = Checker.checkKey(key, operations, staleReads: StaleReads.find(key: key, operations: operations), budget: .standard)
                    if expected != .unknown { #expect(verdict.verdict == expected, "\(context)") }
                    decided[expected.rawValue, default: 0] += 1
                    if fast != expected && fast != .unknown && expected != .unknown { return }
                }
            }
        }
        // Both verdicts, and the proofs, were exercised in earnest.
        #expect(decided[Verdict.linearizable.rawValue, default: 0] > Self.seeds.count)
        #expect(decided[Verdict.notLinearizable.rawValue, default: 0] > Self.seeds.count)
        #expect(decided["proof", default: 0] > Self.seeds.count / 2, "\(decided)")
    }

    @Test func hotKeysAreDecidedWithinTheFastBudget() throws {
        // 600 operations on one key from 24 clients: the search without zones needs far more.
        for seed: UInt64 in 1...4 {
            let generated = HistoryGenerator.generate(.init(operations: 600, clients: 24, keys: 1, weights: [.get: 4, .put: 2, .cas: 2, .delete: 1]), seed: seed)
            let report = try Checker.check(CheckInput(history: generated.operations), budget: CheckBudget(stepsPerKey: 40_000))
            #expect(report.linearizable == .linearizable, "seed \(seed): \(report.keys.first?.note ?? "")")
            for kind in [CorruptedRead.Kind.stale, .lostWrite, .future, .invented] {
                guard let corrupted = generated.corruptingOneRead(seed: seed, kind: kind) else { continue }
                let bad = try Checker.check(CheckInput(history: corrupted.operations), budget: CheckBudget(stepsPerKey: 40_000))
                #expect(bad.linearizable == .notLinearizable, "seed \(seed), \(kind): \(bad.keys.first?.note ?? "")")
            }
        }
    }

    // MARK: each proof, with a budget too small for the search

    /// The key's verdict when the search may take one step, and the proof's rule. A put nothing
    /// observes comes first, so that the search's one step succeeds and it cannot decide (the zone
    /// pruning alone refutes some of these histories at the root).
    func proved(_ history: [HistoryOperation]) throws -> (Verdict, String?, Anomaly?) {
        let report = try Checker.check(CheckInput(history: [put(1_000, "v0", 0, 1)] + history), budget: CheckBudget(stepsPerKey: 1))
        let proof = report.anomalies.first { $0.kind == .nonLinearizable }
        var rule: String?
        if case .string(let name) = proof?.details["proof"] { rule = name }
        return (report.linearizable, rule, proof)
    }

    @Test func staleReadIsProved() throws {
        let (outcome, _, _) = try proved([put(0, "v1", 0, 10), put(1, "v2", 20, 30), get(2, "v1", 40, 50)])
        #expect(outcome == .notLinearizable)
    }

    @Test func futureReadIsProved() throws {
        let (outcome, rule, proof) = try proved([put(0, "v1", 0, 10), get(1, "v2", 20, 30), put(2, "v2", 40, 50)])
        #expect(outcome == .notLinearizable)
        #expect(rule == "future-value")
        #expect(proof?.operations == [1, 2])
        // Also when the writer timed out, and for a piece of an appended value.
        #expect(try proved([get(0, "v2", 0, 10), put(1, "v2", 20, nil)]).1 == "future-value")
        #expect(try proved([put(0, "a", 0, 10), get(1, "ab", 20, 30), append(2, "b", 40, 50)]).1 == "future-value")
        // Overlapping, the writer may come first: no proof, and the search says yes.
        let overlapping = [put(0, "v1", 0, 10), get(1, "v2", 20, 30), put(2, "v2", 25, 50)]
        #expect(try proved(overlapping).0 != .notLinearizable)
        #expect(try verdict(overlapping) == .linearizable)
    }

    @Test func lostWriteIsProved() throws {
        // The cas replaced v1 and completed; a read invoked later still sees v1. v1's writer
        // overlaps the cas, so no stale read shows it.
        let history = [put(0, "v1", 0, 30), cas(1, "v1", "v2", 10, 40), get(2, "v1", 50, 60)]
        #expect(StaleReads.find(key: "k", operations: history).isEmpty)
        let (outcome, rule, proof) = try proved(history)
        #expect(outcome == .notLinearizable)
        #expect(rule == "consumed-value")
        // The operations that cannot be ordered: v1's writer too, which the read needs.
        #expect(proof?.operations == [0, 1, 2])
        // An append seen after "x" consumed it just as well.
        let appended = [put(0, "x", 0, 30), append(1, "y", 10, 40), get(2, "xy", 45, 48), get(3, "x", 50, 60)]
        #expect(try proved(appended).1 == "consumed-value")
        // Two cas cannot both replace v1.
        let twice = [put(0, "v1", 0, 10), cas(1, "v1", "v2", 20, 100), cas(2, "v1", "v3", 20, 100)]
        #expect(try proved(twice).1 == "consumed-twice")
        #expect(try verdict(twice) == .notLinearizable)
        // A timed-out cas may not have happened: no proof, and linearizable.
        let timedOut = [put(0, "v1", 0, 30), cas(1, "v1", "v2", 10, nil), get(2, "v1", 50, 60)]
        #expect(try proved(timedOut).0 != .notLinearizable)
        #expect(try verdict(timedOut) == .linearizable)
    }

    @Test func overlappingZonesAreProved() throws {
        // v1 must be the value from 15 to 40 and v2 from 20 to 45: both writes overlap everything,
        // so no stale read, but the key cannot hold both.
        let history = [put(0, "v1", 0, 100), put(1, "v2", 0, 100), get(2, "v1", 10, 15), get(3, "v2", 12, 20),
                       get(4, "v1", 40, 50), get(5, "v2", 45, 55)]
        #expect(StaleReads.find(key: "k", operations: history).isEmpty)
        let (outcome, rule, proof) = try proved(history)
        #expect(outcome == .notLinearizable)
        #expect(rule == "overlapping-zones")
        #expect(proof?.explanation.contains("overlap") == true)
        // Without the last read, v2 comes after v1's zone: linearizable, and nothing is proved.
        #expect(try proved(Array(history.dropLast())).0 != .notLinearizable)
        #expect(try verdict(Array(history.dropLast())) == .linearizable)
    }

    @Test func unwrittenValueIsProved() throws {
        #expect(try proved([put(0, "v1", 0, 10), get(1, "v7", 20, 30)]).1 == "unwritten-value")
        // A refused write took no effect, so its value counts as never written.
        #expect(try proved([refused(put(0, "v1", 0, 10)), get(1, "v1", 20, 30)]).1 == "unwritten-value")
        #expect(try proved([append(0, "a", 0, 10), append(1, "b", 0, 10), get(2, "ac", 20, 30)]).1 == "unwritten-value")
    }

    @Test func indeterminateWritesAreNotProofs() throws {
        // Observed, so it took effect (before the read completed): fine.
        #expect(try proved([put(0, "v1", 0, 10), put(1, "v2", 5, nil), get(2, "v2", 20, 30)]).0 != .notLinearizable)
        // Never observed: it may have been dropped, or placed anywhere after its invocation.
        let dropped = [put(0, "v1", 0, 10), put(1, "v2", 5, nil), get(2, "v1", 20, 30), get(3, "v1", 40, 50)]
        #expect(try proved(dropped).0 != .notLinearizable)
        #expect(try verdict(dropped) == .linearizable)
    }
}

extension LinearizabilitySearch.Result {
    var verdict: Verdict {
        switch self {
        case .linearizable: .linearizable
        case .notLinearizable: .notLinearizable
        case .unknown: .unknown
        }
    }
}
