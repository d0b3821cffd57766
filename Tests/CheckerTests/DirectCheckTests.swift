import ConsensusCore
import Testing
@testable import Checker

@Suite struct DirectCheckTests {
    // MARK: stale reads

    @Test func staleReadIsReportedWithTheWritesInvolved() {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, 30), get(2, "v1", 40, 50)]
        let stale = StaleReads.find(key: "k", operations: history)
        #expect(stale.count == 1)
        #expect(stale.first?.operations == [0, 1, 2])
        #expect(stale.first?.explanation.contains("#1 put \"v2\"") == true)
    }

    @Test func readsThatCouldBeCurrentAreNotStale() {
        // w2 overlaps w1, so w1 may have come last.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, 25), put(1, "v2", 20, 30), get(2, "v1", 40, 50)]).isEmpty)
        // w2 had not completed when the read began.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, 10), put(1, "v2", 20, 45), get(2, "v1", 40, 50)]).isEmpty)
        // w1 is indeterminate: it may have taken effect after w2.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, nil), put(1, "v2", 20, 30), get(2, "v1", 40, 50)]).isEmpty)
        // The overwrite was refused, and a mismatched cas writes nothing.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, 10), refused(put(1, "v2", 20, 30)), cas(3, "v0", "v3", 20, 30, mismatch: true), get(2, "v1", 40, 50)]).isEmpty)
    }

    @Test func staleReadsOfMissingKeysAndAppends() {
        // Absent after a completed put, with no delete in the history: the initial state, stale.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, 10), get(1, nil, 20, 30)]).count == 1)
        // A delete concurrent with the put explains the missing key.
        #expect(StaleReads.find(key: "k", operations: [put(0, "v1", 0, 10), delete(2, 5, 15), get(1, nil, 20, 30)]).isEmpty)
        // "ab" was last extended by the append of "b", and "c" was appended after that.
        let appends = [append(0, "a", 0, 10), append(1, "b", 20, 30), append(2, "c", 40, 50), get(3, "ab", 60, 70)]
        #expect(StaleReads.find(key: "k", operations: appends).map(\.operations) == [[1, 2, 3]])
        #expect(StaleReads.find(key: "k", operations: Array(appends.dropLast()) + [get(3, "abc", 60, 70)]).isEmpty)
    }

    // MARK: lost writes

    @Test func lostWriteIsReported() {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, 30)]
        let lost = LostWrites.find(key: "k", operations: history, final: "v1")
        #expect(lost.map(\.operations) == [[0, 1]])
        #expect(lost.first?.explanation.contains("#1 put \"v2\" (c1 on n1, 20–30us) was acknowledged") == true)
        // Everything acknowledged, the key gone, no delete: all lost.
        #expect(LostWrites.find(key: "k", operations: history, final: nil).count == 2)
        #expect(LostWrites.find(key: "k", operations: [append(0, "a", 0, 10), append(1, "b", 20, 30)], final: "a").map(\.operations) == [[1]])
        #expect(LostWrites.find(key: "k", operations: [put(0, "v1", 0, 10), delete(1, 20, 30)], final: "v1").map(\.operations) == [[0, 1]])
    }

    @Test func appendedFragmentsAreFoundAnywhereInALongValue() {
        // Fragments of several lengths, present at the start, middle and end, or missing.
        let fragments = (0..<300).map { "f\($0)," }
        let kept = fragments.enumerated().filter { $0.offset % 7 != 3 }.map(\.element)
        let history = fragments.enumerated().map { append($0.offset, $0.element, Int64(10 * $0.offset), Int64(10 * $0.offset + 5)) }
        let lost = LostWrites.find(key: "k", operations: history, final: kept.joined())
        #expect(lost.map { $0.operations[0] } == fragments.indices.filter { $0 % 7 == 3 })
        // A fragment longer than the final value cannot occur in it.
        #expect(LostWrites.find(key: "k", operations: [append(0, "abc", 0, 10)], final: "ab").count == 1)
    }

    @Test func overwrittenWritesAreNotLost() {
        #expect(LostWrites.find(key: "k", operations: [put(0, "v1", 0, 10), put(1, "v2", 20, 30)], final: "v2").isEmpty)
        // Concurrent writes: either may have come last.
        #expect(LostWrites.find(key: "k", operations: [put(0, "v1", 0, 30), put(1, "v2", 5, 25)], final: "v1").isEmpty)
        // An indeterminate write may have taken effect at any time after its invocation.
        #expect(LostWrites.find(key: "k", operations: [put(0, "v9", 0, nil), put(1, "v2", 20, 30)], final: "v9").isEmpty)
        // A refused write explains nothing.
        #expect(LostWrites.find(key: "k", operations: [refused(put(0, "v9", 0, 50)), put(1, "v2", 20, 30)], final: "v9").count == 1)
        // Appends after the put; a delete then an append.
        #expect(LostWrites.find(key: "k", operations: [put(0, "x", 0, 10), append(1, "y", 20, 30)], final: "xy").isEmpty)
        #expect(LostWrites.find(key: "k", operations: [put(0, "x", 0, 10), delete(1, 20, 30), append(2, "y", 40, 50)], final: "y").isEmpty)
        #expect(LostWrites.find(key: "k", operations: [put(0, "x", 0, 10), delete(1, 20, 30)], final: nil).isEmpty)
    }

    // MARK: replica divergence

    @Test func divergentKeysAreReported() {
        let replicas: [NodeID: [String: String]] = [
            NodeID(1): ["a": "1", "b": "2"], NodeID(2): ["a": "1", "b": "3"], NodeID(3): ["a": "1", "b": "2", "c": "9"],
        ]
        let divergence = ReplicaDivergence.find(replicas: replicas, down: [])
        #expect(divergence.map(\.key) == ["b", "c"])
        #expect(divergence.map(\.nodes) == [[NodeID(2)], [NodeID(3)]])
        #expect(divergence[0].explanation.contains("n1, n3 hold \"2\"; n2 holds a value that parts from it after 0 characters: \"3\" against \"2\""),
                "\(divergence[0].explanation)")
        #expect(divergence[1].explanation.contains("n1, n2 hold no value; n3 holds \"9\""), "\(divergence[1].explanation)")
    }

    /// Appended values share long prefixes: the explanation shows where they part, not both ends.
    @Test func divergentAppendsAreExplainedWhereTheyPart() {
        let base = (1...200).map { "n1.\($0);" }.joined()
        let replicas: [NodeID: [String: String]] = [
            NodeID(1): ["k": base], NodeID(2): ["k": base + "n2.7;n3.9;"], NodeID(3): ["k": base + "n2.7;n3.9;"],
            NodeID(4): ["k": base + "n4.1;"], NodeID(5): [:],
        ]
        let explanation = ReplicaDivergence.find(replicas: replicas, down: []).first?.explanation ?? ""
        #expect(explanation.contains("n2, n3 hold \""), "\(explanation)")
        #expect(explanation.contains("n1 holds a prefix of it, 10 characters shorter, ending \"…"), "\(explanation)")
        #expect(explanation.contains("n4 holds a value that parts from it after \(base.count + 1) characters: ") && explanation.contains("n4.1;\" against"),
                "\(explanation)")
        #expect(explanation.contains("n5 holds no value"), "\(explanation)")
    }

    @Test func agreeingReplicasAndDownNodesAreNotDivergent() {
        let replicas: [NodeID: [String: String]] = [NodeID(1): ["a": "1"], NodeID(2): ["a": "1"], NodeID(3): ["a": "0", "z": "1"]]
        #expect(ReplicaDivergence.find(replicas: replicas, down: [NodeID(3)]).isEmpty)
        #expect(ReplicaDivergence.find(replicas: replicas, down: []).count == 2)
    }

    /// A sharded store's groups hold different keys: replicas are compared within their group
    /// only, and a disagreement inside one group is still found.
    @Test func replicaGroupsAreComparedAmongThemselves() throws {
        var replicas: [NodeID: [String: String]] = [
            NodeID(1): ["a": "1"], NodeID(2): ["a": "1"], NodeID(3): ["b": "2"], NodeID(4): ["b": "2"],
        ]
        var input = CheckInput(history: [], replicas: replicas)
        input.replicaGroups = [[NodeID(1), NodeID(2)], [NodeID(3), NodeID(4)]]
        #expect(try Checker.check(input).divergentKeys == 0)
        input.replicaGroups = []
        #expect(try Checker.check(input).divergentKeys == 2, "one cluster: every key differs somewhere")
        replicas[NodeID(4)] = ["b": "3"]
        input = CheckInput(history: [], replicas: replicas)
        input.replicaGroups = [[NodeID(1), NodeID(2)], [NodeID(3), NodeID(4)]]
        let report = try Checker.check(input)
        #expect(report.divergentKeys == 1)
        #expect(report.anomalies.first { $0.kind == .replicaDivergence }?.key == "b")
    }

    // MARK: transaction atomicity

    @Test func splitDecisionsAreAtomicityViolations() {
        let decisions: [String: [NodeID: TransactionDecision]] = [
            "t1": [NodeID(1): .committed, NodeID(2): .committed, NodeID(3): .committed],
            "t2": [NodeID(1): .committed, NodeID(2): .aborted, NodeID(3): .committed],
            "t3": [NodeID(1): .aborted, NodeID(2): .aborted],
        ]
        let violations = TransactionAtomicity.find(decisions)
        #expect(violations.map(\.transaction) == ["t2"])
        #expect(violations.first?.explanation == "transaction t2 was committed at n1, n3 but aborted at n2.")
        #expect(violations.first?.jsonLine.contains(#""aborted":[2]"#) == true)
        let write = put(7, "v7", 100, 200)
        let named = TransactionAtomicity.find(decisions, writes: ["t2": write])
        #expect(named.first?.key == write.command.key && named.first?.operations == [7])
        #expect(named.first?.explanation.hasPrefix("transaction t2, which carried #7 put \"v7\" (") == true, "\(named.first?.explanation ?? "")")
        #expect(named.first?.explanation.hasSuffix("no longer agree on whether the write happened.") == true)
    }

    // MARK: the report

    @Test func reportCountsEveryCheckGiven() throws {
        let history = [put(0, "v1", 0, 10), put(1, "v2", 20, 30), get(2, "v1", 40, 50)]
        let input = CheckInput(
            history: history, finalState: ["k": "v1"],
            replicas: [NodeID(1): ["k": "v1"], NodeID(2): ["k": "v2"]],
            transactions: ["t": [NodeID(1): .committed, NodeID(2): .aborted]])
        let report = try Checker.check(input)
        #expect(report.staleReads == 1)
        #expect(report.lostWrites == 1)
        #expect(report.divergentKeys == 1)
        #expect(report.atomicityViolations == 1)
        #expect(report.anomalies.map(\.kind) == [.nonLinearizable, .staleRead, .lostWrite, .replicaDivergence, .atomicityViolation])
        #expect(report.exitStatus == 1)
        let lines = report.anomaliesJSONL.split(separator: "\n")
        #expect(lines.count == 5)
        for line in lines { #expect(throws: Never.self) { try JSONValue(parsing: String(line)) } }
        #expect(lines[0].hasPrefix(#"{"kind":"non-linearizable","key":"k","ops":["#))
        let plain = try Checker.check(CheckInput(history: history))
        #expect(plain.lostWrites == nil && plain.divergentKeys == nil && plain.atomicityViolations == nil)
    }

    @Test func directAnomaliesAloneMakeTheExitStatusOne() throws {
        let report = try Checker.check(CheckInput(history: [put(0, "v1", 0, 10)], finalState: [:]))
        #expect(report.linearizable == .linearizable)
        #expect(report.lostWrites == 1)
        #expect(report.exitStatus == 1)
        #expect(try Checker.check(CheckInput(history: [put(0, "v1", 0, 10)], finalState: ["k": "v1"])).exitStatus == 0)
    }
}
