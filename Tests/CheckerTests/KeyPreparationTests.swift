import ConsensusCore
import Testing
@testable import Checker

/// How one key's history is prepared for the search: what is proved to have happened, what can
/// be left out. The verdicts these feed are checked against exhaustive search elsewhere; these
/// tests pin down the preparation itself.
@Suite struct KeyPreparationTests {
    func prepared(_ history: [HistoryOperation]) -> KeyHistory { KeyHistory(key: "k", operations: history) }

    func source(_ history: KeyHistory, _ id: Int) -> Int32 { Int32(history.operations.firstIndex { $0.id == id }!) }

    @Test func piecesOfAnAppendedValue() {
        let history = prepared([put(0, "x", 0, 1), append(1, "a", 0, 1), append(2, "b", 0, 1), append(3, "ab", 0, 1), get(4, "xab", 2, 3)])
        let values = history.space.values
        let pieces = ValuePieces(history.mandatory, values: values)
        let found = pieces.pieces(of: "xab").map { (values[Int($0.value)], $0.inEvery) }.sorted { $0.0 < $1.0 }
        // "x"+"a"+"b" or "x"+"ab": only "x" is in both.
        #expect(found.map(\.0) == ["a", "ab", "b", "x"])
        #expect(found.map(\.1) == [false, false, false, true])
        #expect(pieces.pieces(of: "xa").map(\.inEvery) == [true, true])
        // No decomposition: nothing observed.
        #expect(pieces.pieces(of: "xq").isEmpty)
    }

    @Test func anObservedTimeoutBecomesMandatory() {
        let history = prepared([append(0, "a", 0, 10), append(1, "b", 5, nil), get(2, "ab", 20, 30), get(3, "ab", 40, 50)])
        let promoted = history.mandatory.first { $0.source == source(history, 1) }
        #expect(promoted?.deadline == 30)
        #expect(promoted?.forcedBy == source(history, 2))
        #expect(history.optional.isEmpty)
    }

    @Test func anAmbiguouslyObservedTimeoutStaysOptional() {
        // "ab" may be the put's value or "a" followed by "b": neither write is proved.
        let history = prepared([put(0, "ab", 0, nil), put(1, "a", 0, 10), append(2, "b", 5, nil), get(3, "ab", 20, 30)])
        #expect(history.optional.count == 2)
    }

    @Test func chainsOfTimeoutsArePromoted() {
        let history = prepared([put(0, "v1", 0, nil), cas(1, "v1", "v2", 10, nil), get(2, "v2", 20, 30)])
        #expect(history.optional.isEmpty)
        #expect(history.mandatory.map(\.deadline) == [30, 30, 30])
    }

    @Test func unobservableTimeoutsAreDroppedUnlessAMismatchCouldNeedThem() {
        let quiet = prepared([put(0, "v1", 0, 10), put(1, "v9", 5, nil), get(2, "v1", 20, 30)])
        #expect(quiet.optional.isEmpty)
        let withMismatch = prepared([put(0, "v1", 0, 10), put(1, "v9", 5, nil), cas(2, "v1", "v3", 20, 30, mismatch: true)])
        #expect(withMismatch.optional.count == 1)
        #expect(withMismatch.optional.first?.observableUntil == Int64.min)
    }

    @Test func aTimedOutCasObservesOnlyWhileItsOwnValueCanBeSeen() {
        // The put of v2 is seen by the cas expecting it only as long as v3 (the cas's value) can
        // be told apart, here by the mismatch expecting v3, which completes at 60.
        let history = prepared([put(0, "v2", 0, nil), cas(1, "v2", "v3", 10, nil), cas(2, "v3", "v4", 50, 60, mismatch: true)])
        #expect(history.optional.first { $0.source == source(history, 0) }?.observableUntil == 60)
        let alone = prepared([put(0, "v2", 0, nil), cas(1, "v2", "v3", 10, nil), cas(2, "v5", "v4", 50, 60, mismatch: true)])
        #expect(alone.optional.first { $0.source == source(alone, 0) }?.observableUntil == Int64.min)
    }
}
