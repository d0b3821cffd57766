import ConsensusCore
import ConformanceSuite
import Foundation
@testable import Lab
@testable import Simulator
import Storage
import Testing

/// `conlab hunt`: the swarm draw, the judging, the shrinking, the shards. Budgets are small by
/// default; `CONLAB_FULL=1` runs the correct backends over many more seeds.
@Suite struct HuntTests {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-hunt-\(UUID().uuidString)").path

    func target(_ text: String) throws -> HuntTarget { try HuntTarget(parsing: text) }

    func files(_ directory: String) -> [String: Data] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { ($0, FileManager.default.contents(atPath: directory + "/" + $0) ?? Data()) })
    }

    // MARK: The draw

    /// One seed, one scenario, wherever it is drawn; other seeds draw other configurations.
    @Test func theSameSeedDrawsTheSameScenario() throws {
        let raft = try target("raft")
        #expect(HuntDraw.draw(raft, seed: 7).text == HuntDraw.draw(raft, seed: 7).text)
        let drawn = (1...40).map { HuntDraw.draw(raft, seed: UInt64($0)) }
        #expect(Set(drawn.map(\.text)).count == 40)
        #expect(Set(drawn.map(\.nodes)).count >= 5, "cluster sizes vary across seeds")
        #expect(drawn.contains { $0.storage != nil } && drawn.contains { $0.storage == nil }, "both storage engines are drawn")
        #expect(drawn.contains { $0.faults.contains { $0.action == "drop" } }, "some seeds drop messages by type")
        #expect(drawn.contains { if case .open = $0.load { true } else { false } }, "some seeds load the cluster in an open loop")
        #expect(drawn.contains { $0.faults.contains { $0.when != nil } } && drawn.contains { $0.faults.allSatisfy { $0.when == nil } },
                "some seeds fault at protocol moments, others do not")
    }

    /// A fault at a protocol moment is written as the scenario file's `when` and decoded as a
    /// trigger: the event, the node, the occurrence, when it is armed and the delay.
    @Test func aDrawnMomentIsATriggerOfTheScenarioFile() throws {
        let twoPC = try target("2pc")
        let hunt = try #require((1...40).lazy.map { HuntDraw.draw(twoPC, seed: UInt64($0)) }.first { $0.faults.contains { $0.when != nil } })
        let scenario = try hunt.scenario()
        for (step, decoded) in zip(hunt.faults, scenario.faults) where step.when != nil {
            guard case .on(let trigger) = decoded.when else { Issue.record("\(step) decoded as a timed step"); continue }
            #expect(trigger.notBefore == .zero + step.at && trigger.delay == step.when!.delay && trigger.occurrence == step.when!.occurrence)
            #expect(trigger.event == .sent(kind: step.when!.subject) || trigger.event == .received(kind: step.when!.subject))
        }
    }

    /// Shrinking to fewer nodes drops a step that waits for an event at a removed node, and keeps
    /// one at a node that stays.
    @Test func fewerNodesDropsAMomentAtARemovedNode() {
        let moment = { (node: String) in
            HuntCase.Step(at: .seconds(1), action: "crash", value: .string(node), when: HuntCase.Moment(event: "sent", subject: "COMMIT", node: node, occurrence: 1, delay: .microseconds(50)))
        }
        #expect(Shrinker.pruned(moment("n5"), nodes: 4) == nil)
        #expect(Shrinker.pruned(moment("n3"), nodes: 4) == moment("n3"))
        var leader = moment("leader")
        leader.value = .object([("isolate", .string("n5"))])
        #expect(Shrinker.pruned(leader, nodes: 4) == nil)
    }

    /// What the hunt writes is a scenario file the decoder reads back to the same scenario, for
    /// every backend; and options the user fixes stay fixed.
    @Test func aDrawnScenarioRoundTripsThroughTheScenarioDecoder() throws {
        for backend in Backends.all {
            for seed in 1...40 {
                let hunt = HuntDraw.draw(try target(backend.name), seed: UInt64(seed))
                #expect(try JSONValue(parsing: hunt.text) == hunt.document)
                let scenarios = try ScenarioFile.parse(hunt.text, file: "drawn.json")
                #expect(scenarios.count == 1)
                #expect(scenarios[0].nodes == hunt.nodes && scenarios[0].seeds == [UInt64(seed)] && scenarios[0].faults.count == hunt.faults.count)
                #expect(scenarios[0].backends.map(\.kind.name) == [backend.name])
                #expect((3...9).contains(hunt.nodes))
            }
        }
        let fixed = HuntDraw.draw(try target("zab[read=sync]"), seed: 3)
        #expect(try fixed.scenario().backends[0].label.contains("read=sync"))
    }

    /// Writing the nemesis out as explicit steps changes nothing about the run.
    @Test func theNemesisWrittenOutAsStepsRunsTheSameRun() throws {
        let hunt = HuntDraw.draw(try target("raft"), seed: 5)
        let explicit = try #require(try hunt.explicit())
        #expect(explicit.nemesis == nil && explicit.faults.count > hunt.faults.count)
        let outputs = Runner.run(Runner.plan(experiment: "x", scenarios: [try hunt.scenario()]) + Runner.plan(experiment: "x", scenarios: [try explicit.scenario()]))
        #expect(outputs[0].result.history == outputs[1].result.history)
        #expect(outputs[0].result.events.count == outputs[1].result.events.count)
    }

    /// What the hunt judges each variant against: the sets its conformance tests assert.
    /// A leader lost less than a second before the end (to the network's own loss, which
    /// quiescence keeps) leaves an election under way, not a cluster that failed to settle;
    /// leaderless for longer, or never led, it is one (hunt seed 3959 of `raft[read=log]`).
    @Test func anElectionUnderWayAtTheEndIsNotAFailureToSettle() {
        func result(leaderLostAt lost: Int64?) -> SimulationResult {
            var spans = [LeaderSpan(start: .zero, leader: nil, term: 0), LeaderSpan(start: .zero + .milliseconds(500), leader: NodeID(2), term: 5)]
            if let lost { spans.append(LeaderSpan(start: .zero + .milliseconds(lost), leader: nil, term: 0)) }
            return SimulationResult(history: [], events: [], counters: SimulationCounters(), finalStates: [:], finalLeadership: [:], transactions: [:],
                                    leaders: spans, faultLevels: [], workloadEnd: .zero + .seconds(6), end: .zero + .seconds(10))
        }
        #expect(Promises.electingAtTheEnd(result(leaderLostAt: 9_700)))
        #expect(!Promises.electingAtTheEnd(result(leaderLostAt: 8_500)), "leaderless for 1.5 s")
        #expect(!Promises.electingAtTheEnd(result(leaderLostAt: nil)), "a leader at the end: judged by whom the nodes follow")
        let neverLed = SimulationResult(history: [], events: [], counters: SimulationCounters(), finalStates: [:], finalLeadership: [:], transactions: [:],
                                        leaders: [LeaderSpan(start: .zero, leader: nil, term: 0)], faultLevels: [], workloadEnd: .zero, end: .zero + .seconds(10))
        #expect(!Promises.electingAtTheEnd(neverLed))
    }

    @Test func eachVariantIsJudgedOnWhatItPromises() throws {
        func promises(_ label: String, clockSpread: Double = 1, linksFail: Bool = false) throws -> Promises {
            let spec = try HuntDraw.draw(try target(label), seed: 1).scenario().backends[0]
            return Promises.made(by: spec, clockSpread: clockSpread, linksFail: linksFail)
        }
        let raft = Promises.all.union(.liveAfterHeal)
        #expect(try promises("raft[read=readIndex;prevote=true;checkQuorum=true]") == raft)
        #expect(try promises("raft[read=lease;prevote=true;checkQuorum=true]") == raft)
        #expect(try promises("raft[read=lease;prevote=true;checkQuorum=true]", clockSpread: 0.5) == raft.subtracting(.linearizable))
        #expect(try promises("raft[read=lease;prevote=true;checkQuorum=true]", clockSpread: 0.95) == raft, "within the default drift bound of 0.1")
        #expect(try promises("raft[read=lease;prevote=true;checkQuorum=true;clockDrift=0.5]", clockSpread: 0.5) == raft)
        #expect(try promises("raft[read=unsafeLocal;prevote=true;checkQuorum=true]") == raft.subtracting(.linearizable))
        #expect(try promises("raft[read=log;prevote=false;checkQuorum=true]") == raft.subtracting(.liveAfterHeal))
        #expect(try promises("zab[read=local]") == [.durable, .convergent, .liveAfterHeal, .invariantsHold])
        #expect(try promises("zab[read=sync]") == [.linearizable, .durable, .convergent, .liveAfterHeal, .invariantsHold])
        #expect(try promises("2pc") == .all && promises("unreplicated") == .all)
        #expect(try promises("3pc") == .durable && promises("3pc[termination=true]") == .durable)
        #expect(try promises("3pc", linksFail: true) == [] && promises("3pc[termination=true]", linksFail: true) == [])
        #expect(try promises("2pc", linksFail: true) == .all, "2PC blocks rather than diverge")
        #expect(try promises("primary-backup") == [.convergent, .liveAfterHeal, .invariantsHold])
    }

    /// What a hunt of 2PC found at seed 770, shrunk: the coordinator's disk loses a write, the
    /// coordinator crashes, and its restart refuses the corrupt log, so it stays down for good.
    /// Participants in doubt then never learn the decision — 2PC's blocking, not a bug — so a
    /// write-all backend with a node down for good is not judged on durability or convergence.
    @Test func aWriteAllBackendWithANodeDownForGoodIsNotJudgedOnDurability() throws {
        let text = #"""
        {"version": 1, "nodes": 8, "duration": "3117ms", "quiescence": "3s", "seeds": [770], "backends": ["2pc"],
         "workload": {"clientsPerNode": 1, "mode": "closed", "think": {"uniform": ["2ms", "58ms"]}, "keys": 1,
                      "mix": {"get": 4, "put": 3, "append": 5, "cas": 1, "delete": 1}, "timeout": "1s"},
         "network": {"latency": {"uniform": ["488us", "5149us"]}, "reorder": 0.012},
         "storage": {"engine": "file", "fsyncLatency": "1379us", "faults": {"tornWrite": 0.4, "partialWrite": 0.4}},
         "faults": [{"at": "2450ms", "drop": {"kinds": ["COMMIT", "ACK"], "from": ["n4", "n6"], "to": ["n1", "n2", "n3", "n5", "n7", "n8"]}},
                    {"at": "1972962us", "disk": {"node": "n4", "fault": "lost-write"}}, {"at": "2616234us", "crash": "n4"}]}
        """#
        let output = Runner.run(Runner.plan(experiment: "x", scenarios: try ScenarioFile.parse(text, file: "s770.json")))[0]
        #expect(DiskDamage(output.result).refused == [NodeID(4)])
        #expect(output.consistency.lostWrites > 0, "the coordinator's decision is gone with its log")
        #expect(Promises.all.broken(by: output).isEmpty)
    }

    /// Which fault steps keep a live node's messages from another past a timeout: cuts, drop
    /// windows, pauses, slowed nodes and network bursts do; crashes, restarts, clocks and injected
    /// rejections do not, and neither does a repair on its own.
    @Test func linksFailUnderCutsPausesAndBurstsButNotUnderCrashes() {
        let n1 = NodeRef.id(NodeID(1)), n2 = NodeRef.id(NodeID(2))
        let failing: [FaultAction] = [.partition([[n1], [n2]]), .partitionShape(.halves), .oneWay(from: [n1], to: [n2]),
                                      .drop(kinds: ["PRECOMMIT"], from: [n1], to: [n2]), .pause(n1), .slow(n1, factor: 10),
                                      .network(LinkChange(loss: 0.2))]
        let sound: [FaultAction] = [.crash(n1), .restart(.affected), .clockRate(n1, rate: 2), .disk(n1, .lostWrite),
                                    .inject(n1, .reject(phase: "PRECOMMIT", count: 1)), .heal, .resume(n1), .slow(n1, factor: 1), .restoreNetwork]
        for action in failing { #expect(HuntTrial.linksFail([FaultStep(at: .zero + .seconds(1), action)]), "\(action)") }
        #expect(!HuntTrial.linksFail(sound.map { FaultStep(at: .zero + .seconds(1), $0) }))
    }

    /// What the 3PC hunt reported at seeds 9, 219, 296 and 319 (296 shrunk): the genuine protocol,
    /// not a bug. T3.46 (n3's CAS of k3 to "n3.327"): every node votes YES and logs PreCommit,
    /// n7's PRECOMMIT_ACK is lost, and the one-way cut at 2848 ms keeps n3's re-sent PreCommit and
    /// then its ABORT (decided 100 ms after the PreCommits, answered to the client as aborted) from
    /// n1, n4, n6, n7 and n8. Their commit timers run out at 3335 ms and they commit: five of nine
    /// replicas end with the value of a write its client was told had failed, so every CAS of k3
    /// acknowledged before it is lost. A run with a failing link is not judged on durability —
    /// and the checker still sees the loss when durability is asked for.
    @Test func threePhaseCommitIsNotJudgedOnDurabilityWhereLinksFail() throws {
        let text = #"""
        {"version": 1, "nodes": 9, "duration": "3349ms", "quiescence": "3s", "seeds": [296], "backends": ["3pc"],
         "workload": {"clientsPerNode": 1, "mode": "open", "rate": 107, "outstanding": 2, "keys": 5, "mix": {"cas": 1}, "timeout": "1s"},
         "network": {"latency": {"uniform": ["1972us", "3694us"]}, "loss": 0.036, "reorder": 0.087},
         "faults": [{"at": "1681ms", "drop": {"kinds": ["STATE", "YES"], "from": ["n3", "n5"], "to": ["n1", "n2", "n4", "n6", "n7", "n8", "n9"]}},
                    {"at": "2178324us", "heal": true},
                    {"at": "2848052us", "one-way": {"from": ["n3", "n5", "n2", "n9"], "to": ["n4", "n8", "n7", "n1", "n6"]}}]}
        """#
        let scenario = try ScenarioFile.parse(text, file: "s296.json")[0]
        let output = Runner.run(Runner.plan(experiment: "x", scenarios: [scenario]))[0]
        let split = output.result.transactions.filter { Set($0.value.values).count > 1 }
        #expect(split.map { ObservableEvent.transactionName($0.key) } == ["T3.46"])
        #expect(split.first?.value.filter(\.value).keys.sorted() == [1, 4, 6, 7, 8].map(NodeID.init))
        #expect(output.consistency.lostWrites > 0)
        let promises = HuntTrial.promises(of: output.spec.backend, under: scenario.simulationConfig(seed: 296).faults)
        #expect(promises.isEmpty && promises.broken(by: output).isEmpty)
        #expect(Promises.durable.broken(by: output).map(\.kind) == ["durable"])
    }

    @Test func badBackendsAreRefusedWithTheOptionNamed() {
        #expect(throws: HuntError.self) { try HuntTarget(parsing: "paxos") }
        #expect(throws: HuntError.self) { try HuntTarget(parsing: "zab[read=eventually]") }
        #expect(throws: HuntError.self) { try HuntTarget(parsing: "raft[read]") }
    }

    // MARK: Finding and shrinking

    /// Primary–backup does not promise linearizability (any node answers reads from its own
    /// copy): judged as if it did, a small hunt finds a history that is not, and the shrunk
    /// scenario still shows one with less in it.
    @Test func aHuntFindsWhatABackendDoesNotPromiseAndShrinksIt() throws {
        var request = HuntRequest(target: try target("primary-backup"), budget: .runs(10), directory: scratch)
        request.judging = .linearizable
        request.shrinkBudget = 40
        request.jobs = 2
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let log = try Hunt.run(request)
        let violation = try #require(log.violations.first)
        #expect(log.violations.count == 1 && violation.kinds == ["linearizable"])
        let original = try ScenarioFile.load(path: scratch + "/" + violation.file)
        let shrunk = try ScenarioFile.load(path: scratch + "/" + (try #require(violation.shrunk)))
        let outputs = Runner.run(Runner.plan(experiment: "x", scenarios: original) + Runner.plan(experiment: "x", scenarios: shrunk))
        #expect(outputs.allSatisfy { Promises.linearizable.broken(by: $0).first?.kind == "linearizable" }, "both histories are not linearizable")
        let size = { (s: Scenario) in s.faults.count + (s.nemesis == nil ? 0 : 1_000) + s.nodes + s.workload.keys + s.workload.clientsPerNode + Int(s.duration.seconds) }
        #expect(size(shrunk[0]) < size(original[0]), "the shrunk scenario is smaller")
        let steps = try String(contentsOfFile: scratch + "/s\(violation.seed).shrink.log", encoding: .utf8)
        #expect(steps.hasPrefix("shrinking s\(violation.seed).json while it breaks linearizable"))
    }

    /// Shrinking is deterministic: the same violation shrinks to the same file, on any number of
    /// threads (primary–backup's seed 2 draws a history that is not linearizable).
    @Test func theSameViolationShrinksToTheSameScenario() throws {
        let hunt = HuntDraw.draw(try target("primary-backup"), seed: 2)
        #expect(!(try HuntTrial.run(hunt, judging: .linearizable).broken.isEmpty))
        let shrink = { (jobs: Int) in Shrinker(promise: .linearizable, judging: .linearizable, budget: 8, jobs: jobs).shrink(hunt) }
        let (two, one) = (shrink(2), shrink(1))
        #expect(two.hunt.text == one.hunt.text && two.log == one.log)
    }

    /// Correct backends keep their promises over a small budget (CONLAB_FULL=1: 300 seeds each).
    @Test(arguments: ["raft", "zab[read=sync]", "2pc"])
    func correctBackendsShowNothing(backend: String) throws {
        var request = HuntRequest(target: try target(backend), budget: .runs(Conformance.seedCount(default: 10) ?? 300), directory: scratch + backend.fileSafe)
        request.jobs = 2
        defer { try? FileManager.default.removeItem(atPath: scratch + backend.fileSafe) }
        let log = try Hunt.run(request)
        #expect(log.violations.isEmpty, "\(log.violations.map { "s\($0.seed): \($0.message)" })")
        #expect(log.runs == request.budget.runs)
    }

    // MARK: Shards

    /// Two shards cover the seed range exactly once, and their merge is the folder one machine
    /// writes: the same hunt.json and the same scenario files, byte for byte.
    @Test func shardsPartitionTheSeedsAndTheirMergeIsOneMachinesHunt() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func hunt(_ directory: String, shard: Shard?) throws -> HuntLog {
            var request = HuntRequest(target: try target("primary-backup"), budget: .runs(6), directory: scratch + "/" + directory)
            request.judging = .linearizable
            request.keepGoing = true
            request.shrinkBudget = 0
            request.shard = shard
            return try Hunt.run(request)
        }
        let whole = try hunt("whole", shard: nil)
        let shards = try (1...2).map { try hunt("shard\($0)", shard: Shard(parsing: "\($0)/2")) }
        #expect(shards.map(\.runs) == [3, 3])
        #expect(Set(shards.flatMap(\.violations).map(\.seed)).count == shards.flatMap(\.violations).count)
        #expect(!whole.violations.isEmpty, "the range holds a violation, so the merge has files to carry")
        try Merge.merge((1...2).map { scratch + "/shard\($0)" }, into: scratch + "/merged")
        #expect(files(scratch + "/merged") == files(scratch + "/whole"))
        #expect(throws: MergeError.self) { try Merge.merge([scratch + "/shard1"], into: scratch + "/partial") }
        #expect(throws: MergeError.self) { try Merge.merge([scratch + "/shard1", scratch + "/whole"], into: scratch + "/mixed") }
    }
}

extension HuntRequest.Budget {
    var runs: Int? { if case .runs(let count) = self { count } else { nil } }
}
