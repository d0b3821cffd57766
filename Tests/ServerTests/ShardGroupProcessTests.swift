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
