import ConsensusCore
import Lab
import Server
import Testing

/// Cluster files: what a valid one gives, and the file, field and reason of each mistake.
@Suite struct ClusterFileTests {
    static let nodes = """
    [{"id": "n1", "peer": "127.0.0.1:7101", "client": 7001},
     {"id": "n2", "peer": "127.0.0.1:7102", "client": "127.0.0.2:7002"}]
    """

    static func file(backend: String = "{\"protocol\": \"raft\", \"options\": {\"read\": \"lease\"}}",
                     secret: String = "\"secret\": \"sixteen bytes at least\"", extra: String = "", nodes: String = nodes) -> String {
        "{\"version\": 1, \"cluster\": 12, \(secret), \"backend\": \(backend), \(extra) \"nodes\": \(nodes)}"
    }

    static func error(_ text: String) -> ScenarioError? {
        do {
            _ = try ClusterFile.parse(text, file: "c.json")
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidFileGivesTypedMembersAndBackend() throws {
        let configuration = try ClusterFile.parse(Self.file(), file: "/etc/c.json")
        #expect(configuration.clusterID == 12 && configuration.secret == Array("sixteen bytes at least".utf8))
        #expect(configuration.backend.label == "raft[read=lease]")
        #expect(configuration.requestTimeout == ClusterFile.defaultRequestTimeout)
        #expect(configuration.members.map(\.client.description) == ["127.0.0.1:7001", "127.0.0.2:7002"])
        #expect(configuration.memberIDs == [NodeID(1), NodeID(2)])
        let again = try ClusterFile.parse(ClusterFile.text(of: configuration), file: "/etc/c.json")
        #expect(again.members.map(\.peer) == configuration.members.map(\.peer) && again.backend.label == configuration.backend.label,
                "what the launcher writes reads back the same")
    }

    /// A shard group's role reads back from what the launcher writes, and is only Raft's.
    @Test func aShardGroupRoleIsOptionalRaftOnlyAndReadBack() throws {
        let configuration = try ClusterFile.parse(Self.file(extra: #""shardGroup": {"group": "g3", "buckets": 16},"#), file: "c.json")
        #expect(configuration.shardGroup?.group.rawValue == 3 && configuration.shardGroup?.buckets == 16)
        #expect(try ClusterFile.parse(ClusterFile.text(of: configuration), file: "c.json").shardGroup == configuration.shardGroup)
        #expect(try ClusterFile.parse(Self.file(), file: "c.json").shardGroup == nil)
        let zab = Self.error(Self.file(backend: #"{"protocol": "zab"}"#, extra: #""shardGroup": {"group": "g1", "buckets": 4},"#))
        #expect(zab?.path == "backend" && zab?.reason.contains("Raft") == true, "\(String(describing: zab))")
        #expect(Self.error(Self.file(extra: #""shardGroup": {"group": "2", "buckets": 4},"#))?.path == "shardGroup.group")
        #expect(Self.error(Self.file(extra: #""shardGroup": {"group": "g2", "buckets": 0},"#))?.path == "shardGroup.buckets")
        #expect(Self.error(Self.file(extra: #""shardGroup": {"group": "g2"},"#))?.reason.contains("buckets") == true)
    }

    @Test func eachMistakeIsNamedByFieldAndReason() {
        #expect(Self.error(Self.file(secret: "\"secret\": \"short\""))?.path == "secret")
        #expect(Self.error(Self.file(secret: "\"secretFile\": \"/no/such/secret\""))?.reason.contains("no such file") == true)
        #expect(Self.error(Self.file(backend: "\"paxos\""))?.reason.contains("unknown backend \"paxos\"") == true)
        #expect(Self.error(Self.file(backend: "{\"external\": \"etcd\"}"))?.reason.contains("etcd is an external system: a `conlab serve` node runs one of our backends") == true)
        #expect(Self.error(Self.file(backend: "{\"protocol\": \"raft\", \"options\": {\"read\": \"dirty\"}}"))?.path == "backend.options.read")
        #expect(Self.error(Self.file(extra: "\"requestTimeout\": \"2h\","))?.path == "requestTimeout",
                "a request timeout past the session timeout could let a retry apply twice")
        #expect(Self.error(Self.file(nodes: "[{\"id\": \"n2\", \"peer\": 7101, \"client\": 7001}]"))?.path == "nodes[0].id")
        #expect(Self.error(Self.file(nodes: "[{\"id\": \"n1\", \"peer\": 7101, \"client\": 7101}]"))?.reason == "127.0.0.1:7101 is already n1's peer address")
        #expect(Self.error(Self.file(nodes: "[{\"id\": \"n1\", \"peer\": \"localhost:1\", \"client\": 7001}]"))?.path == "nodes[0].peer")
        #expect(Self.error(Self.file(nodes: "[{\"id\": \"n1\", \"peer\": 7101, \"client\": 7001, \"port\": 1}]"))?.path == "nodes[0].port")
        #expect(Self.error("{\"version\": 2}")?.path == "version")
        #expect(Self.error(Self.file(extra: "\"requirepass\": \"short\","))?.path == "requirepass")
        #expect(Self.error(Self.file(extra: "\"requirepass\": \"sixteen bytes at least\", \"requirepassFile\": \"p\","))?.reason
                == "give \"requirepass\" or \"requirepassFile\", not both")
    }

    /// A member's admin address (for `conlab run --real`) is optional, checked like the others,
    /// and written back.
    @Test func anAdminAddressIsOptionalAndReadBack() throws {
        #expect(try ClusterFile.parse(Self.file(), file: "c.json").members.allSatisfy { $0.admin == nil })
        let configuration = try ClusterFile.parse(Self.file(nodes: "[{\"id\": \"n1\", \"peer\": 7101, \"client\": 7001, \"admin\": 7201}]"), file: "c.json")
        #expect(configuration.members[0].admin?.description == "127.0.0.1:7201")
        #expect(try ClusterFile.parse(ClusterFile.text(of: configuration), file: "c.json").members[0].admin == configuration.members[0].admin)
        #expect(Self.error(Self.file(nodes: "[{\"id\": \"n1\", \"peer\": 7101, \"client\": 7001, \"admin\": 7001}]"))?.reason
                == "127.0.0.1:7001 is already n1's client address")
    }

    /// Clients need no password unless the file gives one; given, it is kept and written back.
    @Test func aClientPasswordIsOptional() throws {
        #expect(try ClusterFile.parse(Self.file(), file: "c.json").requirepass == nil)
        let configuration = try ClusterFile.parse(Self.file(extra: "\"requirepass\": \"a password for clients\","), file: "c.json")
        #expect(configuration.requirepass == Array("a password for clients".utf8))
        #expect(try ClusterFile.parse(ClusterFile.text(of: configuration), file: "c.json").requirepass == configuration.requirepass)
    }
}
