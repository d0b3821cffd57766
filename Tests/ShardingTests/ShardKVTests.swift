import Checker
import Foundation
import ConsensusCore
import Lab
import KVStore
import Simulator
import Testing
@testable import Sharding

/// 6.824 lab 4B's shardkv tests on simulated Raft groups running `ShardStore`: every bucket served
/// by exactly the group the configuration names, buckets moving with their data as groups join and
/// leave under load, the rest serving meanwhile, moved data deleted, and every group's history
/// together linearizable per key with no acknowledged write lost.
@Suite struct ShardKVTests {
    static let keys = (0..<12).map { "k\($0)" }

    /// Judges the deployment's whole history: linearizable, nothing acknowledged lost.
    func judge(_ deployment: ShardedDeployment, _ label: String) throws {
        let report = try Checker.check(CheckInput(history: deployment.history, finalState: deployment.servedState().state))
        #expect(deployment.servedState().servedTwice.isEmpty, "\(label): a bucket served by two groups")
        #expect(report.linearizable == .linearizable, "\(label): \(report.anomalies.map(\.explanation))")
        #expect(report.lostWrites == 0, "\(label): \(report.anomalies.map(\.explanation))")
    }

    /// TestStaticShards: two groups, each serving its half; a group answers "wrong group" for a
    /// key of the other's bucket, and the history is linearizable.
    @Test func eachGroupServesItsOwnBucketsAndRefusesTheOthers() throws {
        let deployment = ShardedDeployment(groups: [1, 2], buckets: 10, seed: 1)
        try deployment.change(.join([GroupID(1): ["a"], GroupID(2): ["b"]]))
        deployment.settle()
        #expect(!deployment.migrating)
        for id in [1, 2] {
            let store = deployment.store(GroupID(id))
            #expect(store.configuration.number == 1)
            #expect(store.buckets.filter { $0 == .serving }.count == 5, "g\(id): \(store.buckets)")
        }
        var clients = ShardClients(count: 4, keys: Self.keys.count, seed: 1, known: deployment.latest)
        deployment.run(for: .seconds(2)) { clients.step(deployment) }
        #expect(clients.completed > 100)
        #expect(clients.wrongGroupRetries == 0)
        let key = Self.keys.first { deployment.latest.owner(of: Bucket.of(key: $0, count: 10)) == GroupID(1) }!
        let refused = deployment.submit(.put(key: key, value: "x"), to: GroupID(2), turn: 0)
        deployment.run(for: .milliseconds(100))
        #expect(deployment.answered(refused) == .fail(.refused))
        try judge(deployment, "static")
    }

    /// TestJoinLeave with load throughout: g1 alone, g2 joins (half the buckets move), g1 leaves
    /// (the rest move): every write survives both moves, g1 ends holding nothing, and clients
    /// were sent to the new owner along the way.
    @Test func bucketsMoveWithTheirDataAsGroupsJoinAndLeave() throws {
        let deployment = ShardedDeployment(groups: [1, 2], buckets: 10, seed: 2)
        try deployment.change(.join([GroupID(1): ["a"]]))
        deployment.settle()
        var clients = ShardClients(count: 4, keys: Self.keys.count, seed: 2, known: deployment.latest)
        deployment.run(for: .seconds(1)) { clients.step(deployment) }
        try deployment.change(.join([GroupID(2): ["b"]])) { clients.step(deployment) }
        deployment.settle { clients.step(deployment) }
        deployment.run(for: .seconds(1)) { clients.step(deployment) }
        try deployment.change(.leave([GroupID(1)])) { clients.step(deployment) }
        deployment.settle { clients.step(deployment) }
        deployment.run(for: .seconds(1)) { clients.step(deployment) }
        #expect(!deployment.migrating)
        #expect(clients.wrongGroupRetries > 0, "clients met a moved bucket")
        let g1 = deployment.store(GroupID(1)), g2 = deployment.store(GroupID(2))
        #expect(g1.data.isEmpty && g1.buckets.allSatisfy { $0 == .absent }, "moved data is deleted: \(g1.buckets)")
        #expect(g2.buckets.allSatisfy { $0 == .serving })
        #expect(g2.configuration.number == 3 && g1.configuration.number == 3)
        try judge(deployment, "join-leave")
    }

    /// "Unaffected shards keep serving during migration": with a move held between its export and
    /// its install, clients of the buckets that stay are served as before, and the bucket on its
    /// way is served by neither group.
    @Test func bucketsThatStayKeepServingWhileOthersMove() throws {
        let deployment = ShardedDeployment(groups: [1, 2], buckets: 4, seed: 3)
        try deployment.change(.join([GroupID(1): ["a"]]))
        deployment.settle()
        deployment.holdMoves = true
        try deployment.change(.join([GroupID(2): ["b"]]))
        deployment.run(for: .seconds(1))
        let g1 = deployment.store(GroupID(1)), g2 = deployment.store(GroupID(2))
        #expect(g1.configuration.number == 2 && g2.configuration.number == 2)
        let leaving = g1.buckets.indices.filter { if case .leaving = g1.buckets[$0] { true } else { false } }
        #expect(leaving.count == 2 && leaving.allSatisfy { if case .pulling = g2.buckets[$0] { true } else { false } })
        let staying = Self.keys.first { g1.buckets[Bucket.of(key: $0, count: 4).index] == .serving }!
        let moving = Self.keys.first { leaving.contains(Bucket.of(key: $0, count: 4).index) }!
        let served = deployment.submit(.put(key: staying, value: "s"), to: GroupID(1), turn: 0)
        let atOld = deployment.submit(.put(key: moving, value: "m1"), to: GroupID(1), turn: 0)
        let atNew = deployment.submit(.put(key: moving, value: "m2"), to: GroupID(2), turn: 0)
        deployment.run(for: .milliseconds(200))
        #expect(deployment.answered(served) == .ok(.done))
        #expect(deployment.answered(atOld) == .fail(.refused))
        #expect(deployment.answered(atNew) == .fail(.refused))
        deployment.holdMoves = false
        deployment.settle()
        #expect(!deployment.migrating)
        try judge(deployment, "partial migration")
    }

    /// TestSnapshot's point for shard groups: with snapshots every few entries, a node that was
    /// down through a move catches up from a snapshot holding the group's buckets and their
    /// states, and serves what the others serve.
    @Test func aNodeCatchesUpAcrossAMoveFromASnapshot() throws {
        let deployment = ShardedDeployment(groups: [1, 2], buckets: 6, seed: 4, snapshotThreshold: 20)
        try deployment.change(.join([GroupID(1): ["a"]]))
        deployment.settle()
        var clients = ShardClients(count: 3, keys: Self.keys.count, seed: 4, known: deployment.latest)
        let sim = deployment.groups[GroupID(2)]!
        let down = sim.cluster.first { $0 != sim.currentLeader }!
        sim.apply(.crash(.id(down)))
        try deployment.change(.join([GroupID(2): ["b"]])) { clients.step(deployment) }
        deployment.settle { clients.step(deployment) }
        deployment.run(for: .seconds(2)) { clients.step(deployment) }
        sim.apply(.restart(.id(down)))
        deployment.run(for: .seconds(2)) { clients.step(deployment) }
        let restarted = try #require(sim.backend(down)?.store as? ShardStore)
        #expect(sim.backend(down)?.snapshot != nil, "the node was brought up to date by a snapshot")
        #expect(restarted.buckets == deployment.store(GroupID(2)).buckets && restarted.configuration == deployment.store(GroupID(2)).configuration)
        try judge(deployment, "snapshot")
    }

    /// TestConcurrent2/3's unreliable variant: three groups on a network that loses, duplicates
    /// and reorders messages, groups joining and leaving one after another under load, and in
    /// every group the leader crashing (and coming back) in the middle of the moves. Every change
    /// completes, every bucket ends served by the group the last version names, and the history is
    /// linearizable with no acknowledged write lost.
    @Test(arguments: [5, 6] as [UInt64]) func changesUnderLossAndLeaderCrashesKeepEveryWrite(seed: UInt64) throws {
        let network = LinkProfile(loss: 0.05, duplicate: 0.02, reorder: 0.05)
        let deployment = ShardedDeployment(groups: [1, 2, 3], buckets: 12, seed: seed, network: network)
        try deployment.change(.join([GroupID(1): ["a"]]))
        deployment.settle()
        var clients = ShardClients(count: 6, keys: Self.keys.count, seed: seed, known: deployment.latest)
        let changes: [ConfigurationChange] = [.join([GroupID(2): ["b"]]), .join([GroupID(3): ["c"]]), .leave([GroupID(1)]),
                                              .join([GroupID(1): ["a"]]), .leave([GroupID(2)])]
        for (round, change) in changes.enumerated() {
            try deployment.change(change) { clients.step(deployment) }
            deployment.run(for: .milliseconds(30)) { clients.step(deployment) }
            // The leader of one group crashes in the middle of the moves and comes back later.
            let sim = deployment.groups[GroupID(round % 3 + 1)]!
            if let leader = sim.currentLeader {
                sim.apply(.crash(.id(leader)))
                deployment.run(for: .milliseconds(400)) { clients.step(deployment) }
                sim.apply(.restart(.id(leader)))
            }
            deployment.settle { clients.step(deployment) }
            #expect(!deployment.migrating, "change \(round + 1) completed")
            deployment.run(for: .milliseconds(300)) { clients.step(deployment) }
        }
        let last = deployment.latest
        for (id, _) in deployment.groups {
            let store = deployment.store(id)
            #expect(store.configuration == last)
            for index in 0..<12 { #expect((store.buckets[index] == .serving) == (last.owners[index] == id), "g\(id) b\(index): \(store.buckets[index])") }
        }
        #expect(clients.completed > 500)
        try judge(deployment, "unreliable seed \(seed)")
    }

    /// The randomized sweep: per seed, six changes drawn from joins, leaves and single-bucket moves
    /// over four groups, mixed with drawn faults in the groups — a node crashed and restarted, a
    /// leader isolated and healed — on a lossy network, under load. Three seeds by default,
    /// thirty under `CONLAB_FULL=1`.
    @Test func randomChangesAndFaultsKeepEveryWrite() throws {
        let seeds = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? 30 : 3
        for seed in 1...UInt64(seeds) {
            var random = DeterministicRandom(seed: seed, label: "shard-sweep")
            let deployment = ShardedDeployment(groups: [1, 2, 3, 4], buckets: 10, seed: seed, network: LinkProfile(loss: 0.02))
            try deployment.change(.join([GroupID(1): ["a"]]))
            var clients = ShardClients(count: 5, keys: Self.keys.count, seed: seed, known: deployment.latest)
            var joined: Set<GroupID> = [GroupID(1)]
            for _ in 0..<6 {
                let present = deployment.latest.groups.keys.sorted()
                let absent = (1...4).map(GroupID.init).filter { deployment.latest.groups[$0] == nil }
                let change: ConfigurationChange
                switch random.uniform(0...2) {
                case 0 where !absent.isEmpty: change = .join([absent[random.index(below: absent.count)]: ["s"]])
                case 1 where present.count > 1: change = .leave([present[random.index(below: present.count)]])
                default: change = .move(Bucket(random.index(below: 10)), to: present[random.index(below: present.count)])
                }
                try deployment.change(change) { clients.step(deployment) }
                joined.formUnion(deployment.latest.groups.keys)
                let sim = deployment.groups[GroupID(random.uniform(1...4))]!
                if random.chance(0.5) {
                    let node = sim.cluster[random.index(below: 3)]
                    sim.apply(.crash(.id(node)))
                    deployment.run(for: .milliseconds(random.uniform(50...600))) { clients.step(deployment) }
                    sim.apply(.restart(.id(node)))
                } else {
                    sim.apply(.partitionShape(.isolate(.leader)))
                    deployment.run(for: .milliseconds(random.uniform(50...600))) { clients.step(deployment) }
                    sim.apply(.heal)
                }
                deployment.run(for: .milliseconds(200)) { clients.step(deployment) }
            }
            deployment.settle { clients.step(deployment) }
            #expect(!deployment.migrating, "seed \(seed): every change completed")
            // Every group that was ever in the table follows the chain to its end; the others
            // were never asked to.
            for (id, _) in deployment.groups {
                #expect(deployment.store(id).configuration.number == (joined.contains(id) ? deployment.latest.number : 0), "seed \(seed) g\(id)")
            }
            try judge(deployment, "sweep seed \(seed)")
        }
    }
}
