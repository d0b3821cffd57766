import ConsensusCore
import Lab
import Raft
import Simulator
import Testing

/// Admission control (`maxUncommitted`, etcd raft's `MaxUncommittedEntriesSize` in entries): a
/// leader with too many uncommitted entries of its own drops new proposals, unanswered, so an
/// overload costs retries and time-outs rather than a backlog that outlives it.
@Suite struct AdmissionControlTests {
    static func put(client: Int, _ value: String) -> ClientRequest {
        ClientRequest(client: ClientID(client), sequence: 1, command: .put(key: "x", value: value))
    }

    /// The bound counts the leader's own proposals only — not its no-op, not the entries of
    /// earlier terms it inherited; a dropped proposal gets no answer (another copy of it may be
    /// elsewhere, so "no effect" would not be the leader's to say), and a retry of one it holds
    /// is answered when it applies.
    @Test func aLeaderAtItsBoundDropsNewProposals() throws {
        var options = RaftOptions()
        try options.set("maxUncommitted", to: .number(1))
        var node = ScriptedNode(options: options, terms: [1, 1], term: 1)
        node.elect()
        let term = node.raft.currentTerm
        #expect(node.raft.log.lastIndex == 3, "two inherited entries and the no-op, none committed")
        let a = Self.put(client: 1, "a"), b = Self.put(client: 2, "b")
        node.step(.client(a))
        #expect(node.raft.log.lastIndex == 4, "the first proposal is admitted: inherited entries and the no-op do not count")
        node.step(.client(b))
        #expect(node.replies.isEmpty && node.raft.log.lastIndex == 4, "at the bound: no entry, no answer")
        node.step(.client(a))
        #expect(node.replies.isEmpty && node.raft.log.lastIndex == 4, "a retry of a held proposal is not appended again")

        node.receive(.appendReply(AppendReply(term: term, success: true, index: 4, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        #expect(node.raft.commitIndex == 4 && node.replies == [ClientReply(to: a, .ok(.done))])
        node.step(.client(b))
        #expect(node.raft.log.lastIndex == 5, "once the proposal commits there is room again: the retry gets in")
    }

    /// What `conlab hunt --backend raft --from 4073` found, shrunk: no fault at all, an open loop
    /// offering about 400 appends a second to a pipeline of single entries that commits about 160.
    /// Without a bound below the backlog the leader builds, it is still committing entries whose
    /// clients gave up long ago when the 3 s of quiescence end, and a follower is behind (a
    /// divergent key). With the bound the backlog stays short: more operations succeed, the
    /// dropped ones end unanswered (unavailable, not lost), the history is linearizable, and the
    /// replicas agree.
    @Test func anOverloadedLeaderDropsProposalsInsteadOfBuildingABacklog() throws {
        let text = #"""
        {"version": 1, "nodes": 3, "duration": "4s", "quiescence": "3s", "seeds": [4073],
         "backends": [{"protocol": "raft", "options": {"maxInflight": 1, "maxBatch": 1, "maxUncommitted": 16}},
                      {"protocol": "raft", "options": {"maxInflight": 1, "maxBatch": 1}}],
         "workload": {"clientsPerNode": 1, "mode": "open", "rate": 132, "outstanding": 3, "keys": 1, "mix": {"append": 4}, "timeout": "1s"},
         "network": {"latency": {"uniform": ["1606us", "4661us"]}}}
        """#
        let outputs = Runner.run(Runner.plan(experiment: "overload", scenarios: try ScenarioFile.parse(text, file: "overload.json")))
        let bounded = try #require(outputs.first { $0.spec.backend.label.contains("maxUncommitted") })
        let unbounded = try #require(outputs.first { !$0.spec.backend.label.contains("maxUncommitted") })
        let served = { (output: RunOutput) in output.result.history.count { if case .ok = $0.outcome { true } else { false } } }

        #expect(served(bounded) > 2 * served(unbounded), "\(served(bounded)) served with the bound, \(served(unbounded)) without")
        let checked = bounded.consistency
        #expect(checked.lostWrites == 0 && checked.divergentKeys == 0 && checked.linearizable == .linearizable, "\(checked.anomaliesJSONL)")
        #expect(Promises.all.union(.liveAfterHeal).broken(by: bounded).isEmpty)
        #expect(unbounded.consistency.divergentKeys > 0, "the default bound is above this backlog: it is still draining when judged")
    }

    /// The hunt draws the bound at most one pipeline-full (`maxInflight` × `maxBatch`, as drawn or
    /// fixed), so a backlog drains within its quiescence; a bound the user fixes stays.
    @Test func theHuntDrawsTheBoundAtMostOnePipelineFull() throws {
        for seed in 1...40 {
            let spec = try HuntDraw.draw(try HuntTarget(parsing: "raft"), seed: UInt64(seed)).scenario().backends[0]
            var options = RaftOptions()
            for option in spec.options { try options.set(option.name, to: option.value) }
            #expect(spec.options.contains { $0.name == "maxUncommitted" } && options.maxUncommitted <= options.maxInflight * options.maxBatch)
        }
        let fixed = try HuntDraw.draw(try HuntTarget(parsing: "raft[maxBatch=2;maxUncommitted=5000]"), seed: 1).scenario().backends[0]
        #expect(fixed.label.contains("maxUncommitted=5000"))
    }
}
