import ConsensusCore
import Foundation
import Glibc
import Server
import Sharding
import Testing

/// A server group of the sharded store as real `conlab serve` processes (`"shardGroup"` in the
/// cluster file): its Raft log applies to `ShardStore`, so it answers WRONGGROUP until a
/// configuration gives it buckets, takes that configuration as an ordinary write of the reserved
/// key (any Redis client can send one), serves its own buckets and refuses the others', and keeps
/// both its configuration and its data through a leader killed with SIGKILL.
@Suite(.serialized) struct ShardGroupProcessTests {
    @Test func aShardGroupOfProcessesServesTheBucketsItsConfigurationGivesIt() throws {
        guard let conlab = RealClusterTests.conlab() else { return }
        let buckets = 4
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: #"{"protocol": "raft"}"#,
                                       extra: #""shardGroup": {"group": "g1", "buckets": \#(buckets)},"#)
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        let leader = try #require(try cluster.startAllAndAwaitLeader(), "the group elects a leader")
        let keys = (0..<40).map { "k\($0)" }
        let ours = try #require(keys.first { Bucket.of(key: $0, count: buckets).index < 2 })
        let theirs = try #require(keys.first { Bucket.of(key: $0, count: buckets).index >= 2 })

        // Version 0 gives no group anything.
        let refused = try cluster.client(leader).call("SET", ours, "v")
        #expect(refused.isWrongGroup, "\(refused)")

        // Version 1: buckets 0 and 1 to g1, 2 and 3 to g2, adopted through the log.
        let version = ShardConfiguration(number: 1, owners: [GroupID(1), GroupID(1), GroupID(2), GroupID(2)],
                                         groups: [GroupID(1): ["a"], GroupID(2): ["b"]])
        guard case .put(let key, let value) = ShardControl.adopt(version).command else { Issue.record("adopt is a put"); return }
        #expect(try cluster.client(leader).call("SET", key, value) == .simple("OK"))
        #expect(cluster.set(ours, "v1", via: (leader + 1) % 3), "a follower forwards the write of a bucket the group serves")
        #expect(try cluster.client(leader).call("SET", theirs, "x").isWrongGroup)

        // The leader is killed; the others elect one that holds the configuration and the data.
        #expect(cluster.stop(leader, signal: SIGKILL).signalled == SIGKILL)
        #expect(eventually { cluster.agreedLeader() != nil }, "the survivors elect a leader")
        try cluster.start(leader)
        #expect(eventually { cluster.answersPing(leader) }, "the killed node restarts on its data directory")
        for node in 0..<3 {
            #expect(cluster.get(ours, via: node)?.text == "v1", "\(ours) through n\(node + 1)")
            #expect(try cluster.client(node).call("GET", theirs).isWrongGroup, "\(theirs) through n\(node + 1)")
        }
        passed = true
    }
}

extension RESPClient.Reply {
    var isWrongGroup: Bool {
        if case .error(let text) = self { text.hasPrefix("WRONGGROUP") } else { false }
    }
}

/// A whole sharded store as real processes: a metaserver and two server groups of three
/// `conlab serve` nodes each, driven by `ShardDriver` (what `conlab shard` runs). g1 alone first,
/// then g2 joins: half the buckets move with their data, through the metaserver's leader killed
/// with SIGKILL between the change and the moves; every key reads back through the group the new
/// configuration names, and the old owner refuses it.
@Suite(.serialized) struct ShardDriverProcessTests {
    @Test func bucketsMoveBetweenGroupsOfProcessesWithTheirData() throws {
        guard let conlab = RealClusterTests.conlab() else { return }
        try LocalShardedStore.with(conlab: conlab, groups: 2, buckets: 8) { store in
            let (meta, groups, buckets) = (store.meta, store.groups, store.buckets)
            let driver = try store.driver()

            let first = try driver.change(.join([GroupID(1): ["g1"]]))
            try driver.settle()
            let keys = (0..<24).map { "k\($0)" }
            for key in keys {
                #expect(first.owner(of: Bucket.of(key: key, count: buckets)) == GroupID(1))
                #expect(groups[0].set(key, "v-\(key)", via: 0), "\(key) written to g1")
            }

            let second = try driver.change(.join([GroupID(2): ["g2"]]))
            let metaLeader = try #require(meta.agreedLeader())
            #expect(meta.stop(metaLeader, signal: SIGKILL).signalled == SIGKILL)
            let steps = try driver.settle()
            #expect(!steps.isEmpty && steps.allSatisfy { $0.contains("→ g2 (v2)") }, "\(steps)")
            #expect(try driver.settle().isEmpty, "settling a settled store moves nothing")
            let latest = try driver.latest()
            #expect(throws: ShardDriver.Failure.self) { try driver.check(.join([GroupID(2): ["g2"]]), against: latest) }
            #expect(throws: ShardDriver.Failure.self) { try driver.check(.leave([GroupID(1), GroupID(2)]), against: latest) }
            #expect(throws: ShardDriver.Failure.self) { try driver.check(.join([GroupID(3): ["g3"]]), against: latest) }
            #expect(throws: ShardDriver.Failure.self) { try driver.check(.move(Bucket(1), to: GroupID(3)), against: latest) }
            try driver.check(.leave([GroupID(1)]), against: latest)
            let moved = keys.filter { second.owner(of: Bucket.of(key: $0, count: buckets)) == GroupID(2) }
            #expect(!moved.isEmpty && moved.count < keys.count, "some keys, not all, move to g2")
            for key in keys {
                let owner = second.owner(of: Bucket.of(key: key, count: buckets))!.rawValue - 1
                #expect(groups[owner].get(key, via: 1)?.text == "v-\(key)", "\(key) through its owner g\(owner + 1)")
                #expect(try groups[1 - owner].client(2).call("GET", key).isWrongGroup, "\(key) refused by g\(2 - owner)")
            }
            #expect(try driver.chain().map(\.number) == [1, 2])
        }
    }

    @Test func theDriverRefusesClusterFilesThatDoNotMakeAShardedStore() throws {
        func configuration(_ extra: String) throws -> ClusterConfiguration {
            try ClusterFile.parse(#"{"version": 1, "cluster": 5, "secret": "sixteen bytes at least", "backend": "raft", \#(extra) "nodes": [{"id": "n1", "peer": 7101, "client": 7001}]}"#,
                                  file: "c.json")
        }
        let plain = try configuration(""), g1 = try configuration(#""shardGroup": {"group": "g1", "buckets": 8},"#)
        let g1Again = try configuration(#""shardGroup": {"group": "g1", "buckets": 8},"#), g2Other = try configuration(#""shardGroup": {"group": "g2", "buckets": 4},"#)
        #expect(throws: ShardDriver.Failure.self) { try ShardDriver(metaserver: g1, groups: [g2Other]) }
        #expect(throws: ShardDriver.Failure.self) { try ShardDriver(metaserver: plain, groups: [plain]) }
        #expect(throws: ShardDriver.Failure.self) { try ShardDriver(metaserver: plain, groups: [g1, g1Again]) }
        #expect(throws: ShardDriver.Failure.self) { try ShardDriver(metaserver: plain, groups: [g1, g2Other]) }
        #expect(throws: ShardDriver.Failure.self) { try ShardDriver(metaserver: plain, groups: []) }
        _ = try ShardDriver(metaserver: plain, groups: [g1])
    }
}

/// Every acknowledged write survives a live move on real processes: four clients keep writing new
/// values to keys of every bucket (each its own keys), routing by the table and following
/// WRONGGROUP, while g2 joins and half the buckets move; afterwards each key holds the last value
/// written to it that was acknowledged (or a later one whose answer was lost).
@Suite(.serialized) struct ShardMoveUnderLoadProcessTests {
    @Test func acknowledgedWritesSurviveALiveMove() throws {
        guard let conlab = RealClusterTests.conlab() else { return }
        try LocalShardedStore.with(conlab: conlab, groups: 2, buckets: 8) { store in
            let (groups, buckets) = (store.groups, store.buckets)
            let driver = try store.driver()
            _ = try driver.change(.join([GroupID(1): ["g1"]]))
            try driver.settle()

            let writers = try (0..<4).map { index in
                RoutedWriter(driver: try store.driver(), groups: groups, keys: (0..<8).map { "k\(index)-\($0)" })
            }
            for writer in writers {
                let thread = Thread { writer.run() }
                thread.stackSize = 1 << 20
                thread.start()
            }
            usleep(500_000)
            _ = try driver.change(.join([GroupID(2): ["g2"]]))
            let moved = try driver.settle()
            usleep(300_000)  // the writers still routing by the old table meet WRONGGROUP and follow
            for writer in writers { writer.stop() }
            for writer in writers { writer.done.wait() }
            #expect(!moved.isEmpty, "buckets moved while the writers wrote")
            #expect(writers.map(\.acknowledged).reduce(0, +) > 100, "the writers kept writing through the move: \(writers.map(\.acknowledged))")
            #expect(writers.map(\.followedWrongGroup).reduce(0, +) > 0, "the writers met the move and followed it")
            let latest = try driver.latest()
            for (key, expected) in writers.flatMap(\.last).sorted(by: { $0.key < $1.key }) {
                let owner = latest.owner(of: Bucket.of(key: key, count: buckets))!.rawValue - 1
                let value = groups[owner].get(key, via: 0)?.text
                #expect(value == expected.acknowledged || expected.unknown.contains(value ?? ""), "\(key): \(value ?? "nil"), acknowledged \(expected.acknowledged)")
            }
        }
    }
}

/// One client writing `w<n>` to keys in turn, routed by the configuration it last read. A write
/// whose answer was lost may take effect at any later time, after a later acknowledged write too
/// (its connection's session orders nothing), so every such value stays possible to the end.
final class RoutedWriter: @unchecked Sendable {
    let driver: ShardDriver
    let groups: [LocalCluster]
    let keys: [String]
    /// Per key, the last acknowledged value and every value written whose answer was lost.
    private(set) var last: [String: (acknowledged: String, unknown: Set<String>)] = [:]
    private(set) var acknowledged = 0
    private(set) var followedWrongGroup = 0
    let done = DispatchSemaphore(value: 0)

    init(driver: ShardDriver, groups: [LocalCluster], keys: [String]) {
        self.driver = driver
        self.groups = groups
        self.keys = keys
    }

    /// One connection per group, to its first node (which forwards to its leader), kept open.
    private var connections: [Int: RESPClient] = [:]

    private let lock = NSLock()
    private var stopped = false

    func stop() { lock.withLock { stopped = true } }

    /// Writes until `stop()` (or a minute, should the test never say so).
    func run() {
        defer { done.signal() }
        guard var configuration = try? driver.latest() else { return }
        let deadline = Date().addingTimeInterval(60)
        var count = 0
        while Date() < deadline, !lock.withLock({ stopped }) {
            count += 1
            let key = keys[count % keys.count], value = "\(key)=w\(count)"
            guard let owner = configuration.owner(of: Bucket.of(key: key, count: driver.buckets)),
                  let reply = try? connection(owner.rawValue - 1).call("SET", key, value) else {
                last[key, default: ("", [])].unknown.insert(value)
                connections = [:]
                continue
            }
            switch reply {
            case .simple("OK"):
                last[key, default: ("", [])].acknowledged = value
                acknowledged += 1
            case .error(let text) where text.hasPrefix("WRONGGROUP"):
                followedWrongGroup += 1
                configuration = (try? driver.latest(after: configuration)) ?? configuration
            case .error(let text) where text.hasPrefix("TIMEOUT"):
                last[key, default: ("", [])].unknown.insert(value)
            default:
                break  // refused: took no effect
            }
        }
    }

    private func connection(_ group: Int) throws -> RESPClient {
        if let open = connections[group] { return open }
        let client = try groups[group].client(0)
        connections[group] = client
        return client
    }
}

/// A sharded store of real processes for tests: a 3-node Raft metaserver and `groups` server
/// groups of three, every cluster started with its leader elected; `stopAll()` (in a `defer`)
/// stops them all.
final class LocalShardedStore {
    let meta: LocalCluster
    let groups: [LocalCluster]
    let buckets: Int

    init(conlab: String, groups count: Int, buckets: Int) throws {
        self.buckets = buckets
        meta = try LocalCluster(conlab: conlab, nodes: 3, backend: #"{"protocol": "raft"}"#)
        groups = try (1...count).map { id in
            try LocalCluster(conlab: conlab, nodes: 3, backend: #"{"protocol": "raft"}"#, extra: #""shardGroup": {"group": "g\#(id)", "buckets": \#(buckets)},"#)
        }
        do {
            // Nine processes or more at once on a busy machine: give the elections time.
            for cluster in [meta] + groups { #expect(try cluster.startAllAndAwaitLeader(timeout: 45) != nil, "every cluster elects a leader") }
        } catch {
            stopAll(keepingFiles: false)  // the caller's `defer` is not set up yet
            throw error
        }
    }

    /// A driver of its own (each holds its own connections).
    func driver() throws -> ShardDriver {
        try ShardDriver(metaserver: try ClusterFile.load(path: meta.file), groups: try groups.map { try ClusterFile.load(path: $0.file) })
    }

    func stopAll(keepingFiles keep: Bool) {
        for cluster in [meta] + groups { cluster.stopAll(keepingFiles: keep) }
    }

    /// Starts a store, runs `body` on it, and stops every process it started — keeping their
    /// folders for inspection when `body` did not reach its end.
    static func with(conlab: String, groups: Int, buckets: Int, _ body: (LocalShardedStore) throws -> Void) throws {
        let store = try LocalShardedStore(conlab: conlab, groups: groups, buckets: buckets)
        var finished = false
        defer { store.stopAll(keepingFiles: !finished) }
        try body(store)
        finished = true
    }
}
