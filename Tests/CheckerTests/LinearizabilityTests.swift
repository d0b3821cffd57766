import ConsensusCore
import Testing
@testable import Checker

@Suite struct LinearizabilityTests {
    @Test func staleReadIsNotLinearizable() throws {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, 30), get(2, "v1", 40, 50)]
        let report = try Checker.check(CheckInput(history: history))
        #expect(report.linearizable == .notLinearizable)
        #expect(report.staleReads == 1)
        let violation = try #require(report.anomalies.first { $0.kind == .nonLinearizable })
        #expect(violation.key == "k")
        #expect(violation.operations.contains(2))
        #expect(violation.explanation.contains("#2 get → \"v1\""))
    }

    @Test func concurrentWritesMayTakeEffectInEitherOrder() throws {
        for seen in ["v1", "v2"] {
            let history = [put(0, "v1", 0, 100), put(1, "v2", 10, 90), get(2, seen, 110, 120)]
            #expect(try verdict(history) == .linearizable, "reading \(seen)")
        }
        // Both orders, observed by two overlapping reads: one sees v2 then the other v1.
        let both = [put(0, "v1", 0, 100), put(1, "v2", 10, 90), get(2, "v2", 20, 30), get(3, "v1", 40, 120)]
        #expect(try verdict(both) == .linearizable)
        // But once v1 was read after both writes completed, v2 cannot come back.
        let back = [put(0, "v1", 0, 100), put(1, "v2", 10, 90), get(2, "v1", 110, 120), get(3, "v2", 130, 140)]
        #expect(try verdict(back) == .notLinearizable)
    }

    @Test func operationsThatOnlyTouchAreConcurrent() throws {
        // The read is invoked at the instant the write completes: either order is possible.
        let history = [put(0, "v1", 0, 10), put(1, "v2", 10, 20), get(2, "v1", 20, 30)]
        #expect(try verdict(history) == .linearizable)
    }

    @Test func indeterminateWriteMayTakeEffectLate() throws {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, nil), get(2, "v1", 30, 40), get(3, "v2", 100, 110)]
        #expect(try verdict(history) == .linearizable)
    }

    @Test func indeterminateWriteMayNeverTakeEffect() throws {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, nil), get(2, "v1", 30, 40), get(3, "v1", 1000, 1010)]
        #expect(try verdict(history) == .linearizable)
    }

    @Test func indeterminateWriteSeenBeforeItsInvocationIsNotLinearizable() throws {
        let history = [put(0, "v1", 0, 10), get(1, "v2", 20, 30), put(2, "v2", 40, nil)]
        let report = try Checker.check(CheckInput(history: history))
        #expect(report.linearizable == .notLinearizable)
        let violation = try #require(report.anomalies.first)
        #expect(violation.operations.contains(1) && violation.operations.contains(2))
    }

    @Test func indeterminateWriteTakesEffectOnlyOnce() throws {
        // v2 is read, replaced by v3, then read again: the indeterminate put cannot apply twice.
        let history = [put(0, "v2", 0, nil), get(1, "v2", 10, 20), put(2, "v3", 30, 40), get(3, "v2", 50, 60)]
        #expect(try verdict(history) == .notLinearizable)
    }

    @Test func indeterminateReadsAndRefusedWritesCarryNoInformation() throws {
        let history = [put(0, "v1", 0, 10), get(1, nil, 20, nil), refused(put(2, "v2", 30, 40)), get(3, "v1", 50, 60)]
        #expect(try verdict(history) == .linearizable)
        // A refused write that was nevertheless seen is a violation.
        let seen = [put(0, "v1", 0, 10), refused(put(1, "v2", 20, 30)), get(2, "v2", 40, 50)]
        #expect(try verdict(seen) == .notLinearizable)
    }

    @Test func casChains() throws {
        let chain = [put(0, "v1", 0, 10), cas(1, "v1", "v2", 20, 30), cas(2, "v2", "v3", 40, 50), get(3, "v3", 60, 70)]
        #expect(try verdict(chain) == .linearizable)
        let fromAbsent = [cas(0, nil, "v1", 0, 10), get(1, "v1", 20, 30)]
        #expect(try verdict(fromAbsent) == .linearizable)
        let wrongExpectation = [put(0, "v1", 0, 10), cas(1, "v9", "v2", 20, 30)]
        #expect(try verdict(wrongExpectation) == .notLinearizable)
        let brokenChain = [put(0, "v1", 0, 10), cas(1, "v1", "v2", 20, 30), cas(2, "v1", "v3", 40, 50)]
        #expect(try verdict(brokenChain) == .notLinearizable)
    }

    @Test func casMismatchIsAnObservation() throws {
        // The value really was not v9: fine.
        let honest = [put(0, "v1", 0, 10), cas(1, "v9", "v2", 20, 30, mismatch: true), get(2, "v1", 40, 50)]
        #expect(try verdict(honest) == .linearizable)
        // The value was v1 throughout, yet the system said it was not.
        let lying = [put(0, "v1", 0, 10), cas(1, "v1", "v2", 20, 30, mismatch: true), get(2, "v1", 40, 50)]
        #expect(try verdict(lying) == .notLinearizable)
        // A concurrent write explains the mismatch, and an indeterminate one may too.
        let concurrent = [put(0, "v1", 0, 10), put(1, "v3", 15, 35), cas(2, "v1", "v2", 20, 30, mismatch: true)]
        #expect(try verdict(concurrent) == .linearizable)
        let timedOut = [put(0, "v1", 0, 10), put(1, "v3", 15, nil), cas(2, "v1", "v2", 20, 30, mismatch: true)]
        #expect(try verdict(timedOut) == .linearizable)
        // The mismatched cas wrote nothing.
        let noEffect = [put(0, "v1", 0, 10), cas(1, "v9", "v2", 20, 30, mismatch: true), get(2, "v2", 40, 50)]
        #expect(try verdict(noEffect) == .notLinearizable)
    }

    @Test func timedOutWritesExplainMismatchesAfterAppends() throws {
        // Only a timed-out write that took effect before the append explains the mismatch on
        // "xy"; its own value is never seen. A put may be thought of as happening late; a cas
        // needs "x", so it must come before the append.
        let after = [put(4, "w", 70, 80), get(5, "w", 90, 100)]
        let byCas = [put(0, "x", 0, 10), cas(1, "x", "q", 20, nil), append(2, "y", 30, 40), cas(3, "xy", "z", 50, 60, mismatch: true)] + after
        #expect(try verdict(byCas) == .linearizable)
        let byPut = [put(0, "x", 0, 10), put(1, "q", 20, nil), append(2, "y", 30, 40), cas(3, "xy", "z", 50, 60, mismatch: true)] + after
        #expect(try verdict(byPut) == .linearizable)
        let unexplained = [put(0, "x", 0, 10), cas(1, "w", "q", 20, nil), append(2, "y", 30, 40), cas(3, "xy", "z", 50, 60, mismatch: true)] + after
        #expect(try verdict(unexplained) == .notLinearizable)
        // The mismatch expects the put's own value: only "a" then the append ("aa") explains it.
        let ownValue = [delete(0, 0, 10), put(1, "a", 20, nil), append(2, "a", 30, 40), cas(3, "a", "z", 50, 60, mismatch: true)] + after
        #expect(try verdict(ownValue) == .linearizable)
    }

    @Test func deleteAndRecreate() throws {
        let history = [put(0, "v1", 0, 10), delete(1, 20, 30), get(2, nil, 40, 50), put(3, "v2", 60, 70), get(4, "v2", 80, 90)]
        #expect(try verdict(history) == .linearizable)
        let resurrected = [put(0, "v1", 0, 10), delete(1, 20, 30), get(2, nil, 40, 50), get(3, "v1", 60, 70)]
        #expect(try verdict(resurrected) == .notLinearizable)
    }

    @Test func readsOfAMissingKey() throws {
        #expect(try verdict([get(0, nil, 0, 10)]) == .linearizable)
        #expect(try verdict([put(0, "v1", 0, 10), get(1, nil, 20, 30)]) == .notLinearizable)
        #expect(try verdict([put(0, "v1", 0, 20), get(1, nil, 10, 30)]) == .linearizable)
        #expect(try verdict([put(0, "v1", 0, nil), get(1, nil, 10, 30), get(2, "v1", 40, 50)]) == .linearizable)
    }

    @Test func appends() throws {
        let sequential = [append(0, "a", 0, 10), append(1, "b", 20, 30), get(2, "ab", 40, 50)]
        #expect(try verdict(sequential) == .linearizable)
        let reversed = [append(0, "a", 0, 10), append(1, "b", 20, 30), get(2, "ba", 40, 50)]
        #expect(try verdict(reversed) == .notLinearizable)
        for seen in ["ab", "ba"] {
            let concurrent = [append(0, "a", 0, 100), append(1, "b", 10, 90), get(2, seen, 110, 120)]
            #expect(try verdict(concurrent) == .linearizable, "reading \(seen)")
        }
        let afterPut = [put(0, "x", 0, 10), append(1, "y", 20, 30), get(2, "xy", 40, 50), delete(3, 60, 70), append(4, "z", 80, 90), get(5, "z", 100, 110)]
        #expect(try verdict(afterPut) == .linearizable)
        let lostFragment = [append(0, "a", 0, 10), append(1, "b", 20, 30), get(2, "b", 40, 50)]
        #expect(try verdict(lostFragment) == .notLinearizable)
        let indeterminate = [append(0, "a", 0, 10), append(1, "b", 20, nil), append(2, "c", 30, 40), get(3, "abc", 50, 60), get(4, "abc", 70, 80)]
        #expect(try verdict(indeterminate) == .linearizable)
        // Equal strings built two ways: put "ab" and put "a" + append "b".
        let twoWays = [put(0, "a", 0, 10), append(1, "b", 20, 30), get(2, "ab", 40, 50), put(3, "ab", 60, 70), get(4, "ab", 80, 90)]
        #expect(try verdict(twoWays) == .linearizable)
    }

    @Test func readOfAValueNeverWritten() throws {
        let history = [put(0, "v1", 0, 10), get(1, "v7", 20, 30)]
        let report = try Checker.check(CheckInput(history: history))
        #expect(report.linearizable == .notLinearizable)
        #expect(report.staleReads == 0)
    }

    @Test func keysAreJudgedSeparately() throws {
        let history = [put(0, "v1", 0, 10, key: "a"), put(1, "v2", 0, 10, key: "b"),
                       get(2, "v1", 20, 30, key: "a"), get(3, "v1", 20, 30, key: "b")]
        let report = try Checker.check(CheckInput(history: history))
        #expect(report.keys.map(\.key) == ["a", "b"])
        #expect(report.keys.map(\.verdict) == [.linearizable, .notLinearizable])
        #expect(report.linearizable == .notLinearizable)
    }

    @Test func tooSmallABudgetGivesUnknownNeverTrue() throws {
        let generated = HistoryGenerator.generate(.init(operations: 200, clients: 4, keys: 1), seed: 7)
        let folded = withFoldedValues(operations: 200, clients: 4, seed: 7)
        let good = try Checker.check(CheckInput(history: folded), budget: CheckBudget(stepsPerKey: 10))
        #expect(good.linearizable == .unknown)
        #expect(good.exitStatus == 3)
        #expect(good.keys[0].note?.contains("10 steps") == true)
        let bad = try #require(generated.corruptingOneRead(seed: 3))
        let budgeted = try Checker.check(CheckInput(history: bad.operations), budget: CheckBudget(stepsPerKey: 10))
        #expect(budgeted.linearizable != .linearizable)
        // With the full budget the same histories get their real verdicts.
        #expect(try verdict(folded) == .linearizable)
        #expect(try verdict(bad.operations) == .notLinearizable)
    }

    @Test func wallClockBudgetOnlyEverYieldsUnknown() throws {
        let report = try Checker.check(CheckInput(history: withFoldedValues(operations: 300, clients: 4, seed: 11)),
                                       budget: CheckBudget(stepsPerKey: 10_000_000, secondsPerKey: 0))
        #expect(report.linearizable != .notLinearizable)
    }

    @Test func staleReadSettlesAKeyTheSearchLeftUnknown() throws {
        // The search's one step applies the first put (nothing observes "v0", so nothing prunes it).
        let history = [put(0, "v0", 0, 1), put(1, "v1", 2, 10), put(3, "v2", 20, 30), get(2, "v1", 40, 50)]
        let report = try Checker.check(CheckInput(history: history), budget: CheckBudget(stepsPerKey: 1))
        #expect(report.keys[0].verdict == .notLinearizable)
        #expect(report.keys[0].note?.contains("stale read #2") == true)
    }

    @Test func inMemoryHistoriesAreValidated() {
        #expect(throws: HistoryError.self) { try verdict([put(0, "v1", 0, 10), put(0, "v2", 20, 30)]) }
        #expect(throws: HistoryError.self) { try verdict([put(0, "v1", 10, 5)]) }
    }
}
