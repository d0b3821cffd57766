import ConsensusCore
import Foundation
import Sharding
import Simulator
import Testing
@testable import Lab

/// Sharded deployments as the lab runs them from a scenario file: configuration changes on the
/// fault timeline, faults aimed at one group, the whole judged as one history (linearizable per key
/// across every migration, no acknowledged write lost, each group's replicas equal), and the
/// groups' and migrations' own reports.
@Suite struct ShardedScenarioTests {
    static func scenario(faults: String = "", sharded: String = "", extra: String = "", duration: String = "12s", groupSize: Int = 3) -> String {
        """
        {"version": 1, "name": "sharded", "duration": "\(duration)", "quiescence": "3s", "backends": ["raft"],
         "sharded": {"groups": 3, "nodesPerGroup": \(groupSize), "buckets": 16, "metaserver": \(groupSize)\(sharded)},
         "workload": {"clientsPerNode": 6, "keys": 48}\(extra),
         "faults": [\(faults)]}
        """
    }

    static let timeline = """
        {"at": "3s", "join": "g4"},
        {"at": "5s", "crash": "leader of g2"},
        {"at": "6s", "restart": "crashed of g2"},
        {"at": "7s", "partition": {"isolate": "leader"}, "group": "g4"},
        {"at": "8s", "heal": true, "group": "g4"},
        {"at": "9s", "leave": "g1"},
        {"at": "10s", "move": {"bucket": 3, "to": "g2"}}
        """

    static func run(_ text: String, seed: UInt64 = 1) throws -> RunOutput {
        let scenarios = try ScenarioFile.parse(text, file: "sharded.json")
        // On the lab's worker threads (8 MB stacks, as `conlab run`), not on a test task's.
        return Runner.run(Runner.plan(experiment: "sharded", scenarios: scenarios, seeds: [seed]))[0]
    }

    @Test func joinLeaveAndMoveUnderGroupFaultsLoseNothing() throws {
        let output = try Self.run(Self.scenario(faults: Self.timeline))
        #expect(output.consistency.linearizable == .linearizable, "\(output.consistency.anomaliesJSONL.prefix(600))")
        #expect(output.consistency.lostWrites == 0 && output.consistency.divergentKeys == 0 && output.consistency.staleReads == 0)
        #expect(output.result.violations.isEmpty)
        let sharded = try #require(output.sharded)
        // Version 1 (g1–g3), then join g4, leave g1, move b3: four versions, made in that order.
        #expect(sharded.changes.map(\.version.number) == [1, 2, 3, 4])
        // g4 took a quarter of the buckets from the others; g1 handed all of its own over; b3 moved last.
        let moves = sharded.migrations
        #expect(moves.filter { $0.version == 2 }.allSatisfy { $0.to == GroupID(4) } && moves.contains { $0.version == 2 })
        #expect(moves.filter { $0.version == 3 }.allSatisfy { $0.from == GroupID(1) } && moves.contains { $0.version == 3 })
        #expect(moves.filter { $0.version == 4 }.map(\.bucket) == [Bucket(3)])
        #expect(moves.allSatisfy { $0.installed >= $0.frozen && $0.length < .seconds(1) }, "\(moves)")
        #expect(sharded.groups.first { $0.group == GroupID(1) }?.bucketsAtEnd == 0)
        #expect(sharded.groups.map(\.bucketsAtEnd).reduce(0, +) == 16)
        // The crash hit g2's leader (g2 is n4–n6), and only g2 elected again for it.
        let crash = try #require(output.result.events.first { if case .fault(.crash, _, _) = $0.event { true } else { false } })
        #expect(crash.group == "g2")
        if case .fault(_, let targets, _) = crash.event { #expect(targets.count == 1 && (4...6).contains(targets[0].rawValue), "\(targets)") }
        #expect(sharded.groups.first { $0.group == GroupID(2) }!.leaderChanges >= 1)
        #expect(sharded.groups.first { $0.group == GroupID(3) }!.leaderChanges == 0)
        // Every group's clients were served; the history names the workload's clients.
        let table = ShardedReport.groups(output)
        #expect(table.rows.count == 4)
        #expect(Set(output.result.history.map(\.client)).allSatisfy { $0.rawValue <= 18 })
        #expect(output.result.history.count > 5_000)
    }

    /// The experiment folder of a sharded run: groups.csv, migrations.csv and transactions.csv
    /// beside the usual files, and the page's tables of groups, moves and transactions.
    @Test func theReportShowsGroupsMovesAndTransactions() throws {
        let output = try Self.run(Self.scenario(faults: Self.timeline, sharded: #", "transactions": {"share": 0.2}"#))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-report-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportWriter.write([output], to: directory)
        try Report.build(directory: directory)
        func lines(_ file: String) throws -> [Substring] {
            try String(contentsOfFile: directory + "/" + file, encoding: .utf8).split(separator: "\n")
        }
        #expect(try lines("groups.csv").count == 1 + 4, "a header and a row per group")
        #expect(try lines("migrations.csv").count == 1 + output.sharded!.migrations.count)
        #expect(try lines("transactions.csv").count == 1 + output.sharded!.transactions.count)
        #expect(try lines("events.csv").contains { $0.contains(",migration,") } && lines("events.csv").contains { $0.contains(",g2: crash leader → n") })
        let page = try String(contentsOfFile: directory + "/index.html", encoding: .utf8)
        #expect(page.contains("<h3>Server groups</h3>") && page.contains("<h3>Bucket moves and cross-shard transactions</h3>"))
        let timeline = ExperimentFile.timeline(output.spec.scenario)
        #expect(timeline.first?.hasPrefix("g1…g3 of 3 Raft nodes serving 16 buckets") == true, "\(timeline)")
        #expect(timeline.contains("at 3s: join g4") && timeline.contains("g2, at 5s: crash leader") && timeline.contains("g4, at 8s: heal"), "\(timeline)")
        #expect(page.contains("<a href=\"groups.csv\">groups.csv</a>"))
    }

    @Test func theSameSeedGivesTheSameBytes() throws {
        let text = Self.scenario(faults: Self.timeline)
        let first = ReportWriter.renderedRun(try Self.run(text, seed: 5)), second = ReportWriter.renderedRun(try Self.run(text, seed: 5))
        #expect(first == second)
        #expect(first != ReportWriter.renderedRun(try Self.run(text, seed: 6)))
    }

    /// The planted mistake (`Experiments/planted-bugs/serve-while-leaving.json`: a leaving bucket
    /// still served) is caught by the checker on every seed tried, and the correct store, on the
    /// same timeline and seeds, is clean.
    @Test func servingALeavingBucketIsCaught() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Experiments/planted-bugs/serve-while-leaving.json").path
        let scenarios = try ScenarioFile.load(path: path)
        #expect(scenarios.map { $0.sharded?.bug } == [ShardStore.Bug.none, .serveWhileLeaving])
        for output in Runner.run(Runner.plan(experiment: "swl", scenarios: scenarios, seeds: [1, 2, 3])) {
            let run = output.consistency
            if output.spec.scenario.sharded?.bug == .serveWhileLeaving {
                #expect(run.linearizable == .notLinearizable && run.staleReads > 0, "\(output.spec.id)")
            } else {
                #expect(run.isClean, "\(output.spec.id): \(run.anomaliesJSONL.prefix(600))")
            }
        }
    }

    /// The randomized sweep: the nemesis's partitions, crashes and flaky links in every group and
    /// the metaserver, configuration changes in between. `CONLAB_FULL=1` runs 20 seeds, else 3.
    @Test func nemesisWithConfigurationChangesLosesNothing() throws {
        let count = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? 20 : 3
        let faults = """
            {"at": "2s", "join": ["g4", "g5"]}, {"at": "5s", "leave": "g2"}, {"at": "7s", "move": {"bucket": 0, "to": "g5"}},
            {"at": "9s", "join": "g2"}, {"at": "11s", "leave": ["g1", "g4"]}
            """
        let nemesis = #", "nemesis": {"faults": ["partition", "crash", "flaky"], "interval": ["500ms", "2s"], "length": ["200ms", "1s"]}"#
        let text = Self.scenario(faults: faults, extra: nemesis, duration: "14s")
        for seed in 1...UInt64(count) {
            let output = try Self.run(text, seed: seed)
            #expect(output.consistency.linearizable == .linearizable, "seed \(seed): \(output.consistency.anomaliesJSONL.prefix(600))")
            #expect(output.consistency.lostWrites == 0 && output.consistency.divergentKeys == 0, "seed \(seed)")
            #expect(output.sharded!.changes.count == 6, "seed \(seed): every change made")
            #expect(output.sharded!.groups.map(\.bucketsAtEnd).reduce(0, +) == 16)
        }
    }

    /// Cross-shard transactions in a sharded run: judged all or nothing across every replica of
    /// every participant group; one replica's decision flipped is an atomicity violation.
    @Test func crossShardTransactionsAreAtomicAndTheCheckerWouldSeeOtherwise() throws {
        let output = try Self.run(Self.scenario(faults: Self.timeline, sharded: #", "transactions": {"share": 0.3, "keys": 3}"#))
        #expect(output.consistency.isClean, "\(output.consistency.anomaliesJSONL.prefix(600))")
        let transactions = try #require(output.sharded?.transactions)
        #expect(transactions.count > 500)
        #expect(transactions.contains { $0.result == .committed } && transactions.contains { $0.result != .committed })
        #expect(output.result.namedTransactions.count >= transactions.count)
        // Every write of a transaction is in the history, done if it committed, refused if not.
        var writes: [String: [HistoryOperation]] = [:]
        for operation in output.result.history {
            if case .put(_, let value) = operation.command, value.contains(".t") { writes[value, default: []].append(operation) }
        }
        for transaction in transactions.prefix(200) {
            let outcomes = try #require(writes[transaction.id]).map(\.outcome)
            #expect(outcomes.count == 3 && Set(outcomes).count == 1, "\(transaction.id): \(outcomes)")
            #expect(outcomes[0] == (transaction.result == .committed ? .ok(.done) : .fail(.refused)))
        }
        var tampered = output.result
        let (id, byNode) = try #require(tampered.namedTransactions.first { $0.value.values.contains(true) })
        tampered.namedTransactions[id]![byNode.keys.sorted().last!] = false
        #expect(ConsistencySummary.check(tampered).atomicityViolations == 1)
    }

    /// Spanner's point, measured: through the same crash of g2's node (or leader) for three
    /// seconds, transactions over single-node participants wait or fail for as long as it is down,
    /// while over Raft groups none takes much longer than a client's timeout.
    @Test func replicatedParticipantsDoNotBlockWhereSingleNodesDo() throws {
        let faults = #"{"at": "3s", "crash": "leader of g2"}, {"at": "6s", "restart": "crashed of g2"}"#
        var longest: [Int: TimeSpan] = [:]
        for size in [1, 3] {
            let output = try Self.run(Self.scenario(faults: faults, sharded: #", "transactions": {"share": 0.5}"#, duration: "9s", groupSize: size))
            #expect(output.consistency.isClean, "\(size): \(output.consistency.anomaliesJSONL.prefix(600))")
            longest[size] = try #require(output.sharded?.transactions.map { $0.finished - $0.started }.max())
        }
        #expect(longest[1]! >= .milliseconds(2_500), "single nodes: \(longest[1]!)")
        #expect(longest[3]! <= .milliseconds(1_500), "Raft groups: \(longest[3]!)")
    }

    @Test(arguments: [
        (#"{"version": 1, "nodes": 3, "backends": ["raft"], "sharded": {}}"#, "nodes", "nodesPerGroup"),
        (#"{"version": 1, "backends": ["2pc"], "sharded": {}}"#, "backends[0]", "Raft groups"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"groups": 2}, "faults": [{"at": "1s", "join": "g2"}]}"#, "faults[0]", "already in the configuration"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"groups": 2}, "faults": [{"at": "1s", "leave": "g3"}]}"#, "faults[0].leave", "neither in the first configuration"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"groups": 2}, "faults": [{"at": "1s", "leave": ["g1", "g2"]}]}"#, "faults[0]", "no group would be left"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"groups": 2}, "faults": [{"at": "1s", "leave": "g2"}, {"at": "2s", "move": {"bucket": 1, "to": "g2"}}]}"#, "faults[1]", "not in the configuration at 2s"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"buckets": 4}, "faults": [{"at": "1s", "move": {"bucket": 4, "to": "g1"}}]}"#, "faults[0].move.bucket", "between 0 and 3"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {}, "faults": [{"at": "1s", "one-way": {"from": "leader of g1", "to": "n2 of g2"}}]}"#, "faults[0]", "names g1 and g2"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {}, "faults": [{"at": "1s", "crash": "leader of g9"}]}"#, "faults[0].crash", "g9"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"metaserver": 3}, "faults": [{"at": "1s", "crash": "n5 of meta"}]}"#, "faults[0].crash", "n1…n3"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {}, "faults": [{"when": {"role": "leader"}, "join": "g4"}]}"#, "faults[0].when", "at a time"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"bug": "oops"}}"#, "sharded.bug", "serve-while-leaving"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {"metaserver": 1}, "faults": [{"at": "1s", "crash": "n3"}]}"#, "faults[0].crash", "n1…n1"),
        (#"{"version": 1, "backends": ["raft"], "sharded": {}, "workload": {"mode": "open", "rate": 10}}"#, "workload", "closed-loop"),
    ]) func badShardedScenariosAreRefusedWithTheField(text: String, path: String, words: String) {
        do {
            _ = try ScenarioFile.parse(text, file: "bad.json")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.reason.contains(words), "\(error)")
        }
    }
}
