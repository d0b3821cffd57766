import ConsensusCore
import Testing
@testable import Checker

@Suite struct MinimalViolationTests {
    /// The non-linearizable anomaly of a one-key history.
    static func violation(_ history: [HistoryOperation]) throws -> Anomaly {
        try #require(Checker.check(CheckInput(history: history)).anomalies.first { $0.kind == .nonLinearizable })
    }

    /// Twenty writes each read back, one after another: nothing wrong with them.
    static func irrelevant(from id: Int, at time: Int64, count: Int = 20) -> [HistoryOperation] {
        (0..<count).flatMap { i -> [HistoryOperation] in
            let start = time + Int64(100 * i)
            return [put(id + 2 * i, "w\(id + i)", start, start + 10), get(id + 2 * i + 1, "w\(id + i)", start + 20, start + 30)]
        }
    }

    @Test func aStaleReadAmongManyOperationsComesDownToThreeOperations() throws {
        let stale = [put(100, "a", 5_000, 5_010), put(101, "b", 5_020, 5_030), get(102, "a", 5_040, 5_050)]
        let history = Self.irrelevant(from: 0, at: 0) + stale + Self.irrelevant(from: 200, at: 6_000)
        let anomaly = try Self.violation(history)
        #expect(anomaly.operations == [100, 101, 102])
        #expect(anomaly.explanation.contains("These 3 operations alone cannot be ordered: #100 put \"a\""))
        guard case .object(let unorderable)? = anomaly.details["unorderable"] else { Issue.record("no unorderable detail"); return }
        #expect(unorderable.first { $0.key == "culprit" }?.value == .number(102))
        #expect(unorderable.first { $0.key == "minimal" }?.value == .bool(true))
        #expect(anomaly.jsonLine.contains(#"{"id":102,"client":102,"node":1,"invoke_us":5040,"complete_us":5050,"op":"get → a","outcome":"ok"}"#))
    }

    @Test func aLongSetIsNamedAndDescribedByTheOperationsNearestTheCulprit() throws {
        // Sixty appends spell the value read after a put replaced it: all of them stay.
        let appends = (0..<60).map { append($0, "a\($0);", Int64(100 * $0), Int64(100 * $0 + 10)) }
        let value = (0..<60).map { "a\($0);" }.joined()
        let anomaly = try Self.violation(appends + [put(60, "z", 7_000, 7_010), get(61, value, 7_020, 7_030)])
        #expect(anomaly.operations == Array(0...61))
        #expect(anomaly.explanation.contains("These 62 operations alone cannot be ordered (all in ops); the 12 nearest the culprit: #50 append"))
        guard case .object(let unorderable)? = anomaly.details["unorderable"],
              case .array(let drawn)? = unorderable.first(where: { $0.key == "operations" })?.value else { Issue.record("no unorderable detail"); return }
        #expect(unorderable.first { $0.key == "count" }?.value == .number(62))
        #expect(drawn.count == KeyLinearizability.drawnOperations)
    }

    @Test func aMismatchKeepsTheWritesThatMadeItHold() {
        // The mismatch expected "a" while "c" was being written; without the put of "c" it would
        // have had to see "a": a violation the history does not have.
        let history = [put(0, "a", 0, 10), put(1, "c", 15, 25), cas(2, "a", "b", 20, 30, mismatch: true)]
        var minimisation = MinimalViolation(KeyHistory(key: "k", operations: history))
        #expect(minimisation.removing([1], from: [0, 1, 2]) == [0, 1, 2])
        // Once the mismatch is gone, the put is free to go.
        #expect(minimisation.removing([1, 2], from: [0, 1, 2]) == [0])
        // With a stale read elsewhere in the key, the minimal set is that read's.
        let anomaly = try? Self.violation(history + [put(3, "x", 100, 110), put(4, "y", 120, 130), get(5, "x", 140, 150)])
        #expect(anomaly?.operations == [3, 4, 5])
    }

    @Test func writesThatKeptOperationsSeeStay() {
        let appends = [delete(0, 0, 10), append(1, "a", 20, 30), append(2, "b", 40, 50), get(3, "ab", 60, 70), put(4, "z", 80, 90)]
        var minimisation = MinimalViolation(KeyHistory(key: "k", operations: appends))
        // Both fragments are pieces of what the read saw; the delete let it start from nothing.
        #expect(minimisation.removing([0, 1, 2], from: [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4])
        // The put came after the read completed: the read cannot see it.
        #expect(minimisation.removing([4], from: [0, 1, 2, 3, 4]) == [0, 1, 2, 3])
        // A read of a missing key keeps the delete before it.
        var absent = MinimalViolation(KeyHistory(key: "k", operations: [put(0, "v", 0, 10), delete(1, 20, 30), get(2, nil, 40, 50)]))
        #expect(absent.removing([1], from: [0, 1, 2]) == [0, 1, 2])
    }

    /// Whatever order the rules allow removals in, a linearizable history stays linearizable: the
    /// rules never invent a violation.
    @Test func allowedRemovalsKeepGeneratedHistoriesLinearizable() throws {
        for seed in CheckerPropertyTests.seeds.prefix(100) {
            let generated = HistoryGenerator.generate(CheckerPropertyTests.configuration(seed: seed), seed: seed)
            var random = DeterministicRandom(seed: seed, label: "minimal-removals")
            for (key, operations) in Checker.partitionByKey(generated.operations) {
                let history = KeyHistory(key: key, operations: operations)
                var minimisation = MinimalViolation(history)
                var members = minimisation.informative
                while members.count > 1 {
                    let start = random.index(below: members.count)
                    let chunk = Array(members[start..<min(members.count, start + random.uniform(1...3))])
                    members = minimisation.removing(chunk, from: members)
                    let subset = members.map { history.operations[$0] }
                    let (verdict, _) = Checker.checkKey(key, subset, budget: .standard)
                    #expect(verdict.verdict != .notLinearizable, "subset \(subset.map(\.id)); \(CheckerPropertyTests.replay(seed))")
                    if verdict.verdict == .notLinearizable { return }
                }
            }
        }
    }

    /// For histories made non-linearizable by one corrupted read, the set reported is part of the
    /// history and is itself non-linearizable.
    @Test func theMinimalSetOfACorruptedHistoryIsAViolation() throws {
        var minimised = 0
        for seed in CheckerPropertyTests.seeds {
            let generated = HistoryGenerator.generate(CheckerPropertyTests.configuration(seed: seed), seed: seed)
            guard let corrupted = generated.corruptingOneRead(seed: seed) else { continue }
            let report = try Checker.check(CheckInput(history: corrupted.operations))
            for anomaly in report.anomalies where anomaly.kind == .nonLinearizable {
                let byID = Dictionary(uniqueKeysWithValues: corrupted.operations.map { ($0.id, $0) })
                let subset = anomaly.operations.compactMap { byID[$0] }
                #expect(subset.count == anomaly.operations.count, "\(CheckerPropertyTests.replay(seed))")
                #expect(try Checker.check(CheckInput(history: subset)).linearizable == .notLinearizable,
                        "subset \(anomaly.operations); \(CheckerPropertyTests.replay(seed))")
                if anomaly.details["unorderable"] != nil { minimised += 1 }
            }
        }
        #expect(minimised > 50)
    }
}
