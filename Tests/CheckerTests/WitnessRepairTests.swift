import ConsensusCore
import Foundation
import Testing
@testable import Checker

/// Mending a near-linearization (`WitnessRepair`): where an order fails, the search re-solves a
/// window of it; the result counts only if it replays, so on an impossible history it must never
/// produce a linearization, however close the order it starts from.
@Suite struct WitnessRepairTests {
    /// "a", then "b", then absent, then "c", each read back.
    let history = KeyHistory(key: "k", operations: [
        put(0, "a", 0, 10), get(1, "a", 5, 20), put(2, "b", 12, 30), get(3, "b", 25, 40),
        delete(4, 35, 50), get(5, nil, 45, 60), put(6, "c", 55, 70), get(7, "c", 65, 80),
    ])

    static func order(_ sources: [Int], of history: KeyHistory) -> [ModelOperation] {
        let all = history.mandatory + history.optional
        return sources.compactMap { source in all.first { $0.source == Int32(source) } }
    }

    @Test func aLocalMistakeIsMended() throws {
        // "b" put before "a" is read: the read fails at position 2.
        let wrong = Self.order([0, 2, 1, 3, 4, 5, 6, 7], of: history)
        #expect(!WitnessReplay.isLinearization(wrong, of: history))
        var repair = WitnessRepair(history, deadline: nil)
        let result = repair.mended(wrong)
        let mended = try #require(result)
        #expect(WitnessReplay.isLinearization(mended, of: history))
    }

    @Test func whatTheOrderLacksIsInsertedAndPlaced() throws {
        // Without the read of the absent key (the construction leaves out those no gap satisfies),
        // and with the delete after "c" was put.
        let lacking = Self.order([0, 1, 2, 3, 6, 4, 7], of: history)
        var repair = WitnessRepair(history, deadline: nil)
        let result = repair.mended(lacking)
        let mended = try #require(result)
        #expect(WitnessReplay.isLinearization(mended, of: history))
    }

    @Test func anImpossibleReadIsNeverMended() {
        // "a" read after "b" replaced it and completed.
        let impossible = KeyHistory(key: "k", operations: [
            put(0, "a", 0, 10), get(1, "a", 5, 20), put(2, "b", 12, 30), get(3, "b", 25, 40),
            delete(4, 35, 50), get(5, nil, 45, 60), put(6, "c", 55, 70), get(7, "a", 65, 80),
        ])
        var repair = WitnessRepair(impossible, deadline: nil)
        let mended = repair.mended(Self.order([0, 1, 2, 3, 4, 5, 6, 7], of: impossible))
        #expect(mended == nil)
        #expect(EpochWitness.find(impossible) == nil)
    }

    /// The generated hot keys of `EpochWitnessTests` with a read made impossible, each mended
    /// from the linearization of the history before the corruption (its operations carried over
    /// by source): the closest start there can be, failing only near the corrupted read.
    @Test func aNearLinearizationOfAnImpossibleHistoryIsNeverMendedIntoOne() {
        var tried = 0
        for seed in EpochWitnessTests.seeds.prefix(100) {
            let (generated, corrupted, _) = EpochWitnessTests.variants(seed: seed)
            guard let good = EpochWitness.find(EpochWitnessTests.key(generated)) else { continue }
            for (name, operations) in corrupted {
                let history = EpochWitnessTests.key(operations)
                let start = Self.order(good.map { Int($0.source) }, of: history)
                var repair = WitnessRepair(history, deadline: nil)
                let mended = repair.mended(start)
                tried += 1
                #expect(mended.map { !WitnessReplay.isLinearization($0, of: history) } ?? true, "seed \(seed), \(name)")
                #expect(EpochWitness.find(history) == nil, "seed \(seed), \(name)")
            }
        }
        #expect(tried > 100)
    }

    @Test func aLongHotKeyIsDecidedByItsMendedEpochs() throws {
        // 10,000 operations from 32 clients: every strategy's construction goes wrong somewhere.
        let generated = HistoryGenerator.generate(.init(operations: 10_000, clients: 32, keys: 1), seed: 1)
        let history = EpochWitnessTests.key(generated.operations)
        let attempt = EpochWitness.attempt(history)
        let witness = try #require(attempt.linearization)
        #expect(WitnessReplay.isLinearization(witness, of: history))
        #expect(attempt.mendedWindows > 0)
    }
}
