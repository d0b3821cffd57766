import ConsensusCore
import Lab
import Raft
import Runtime
import Sharding

/// A cluster as its file describes it (`ClusterFile`): who the members are, where each listens,
/// what they run, and the secret that admits them to each other's links.
public struct ClusterConfiguration: Sendable {
    /// One member: its id, the address its peers dial and the address its clients connect to.
    public struct Member: Sendable {
        public var id: NodeID
        public var peer: SocketAddress
        public var client: SocketAddress
        /// The member's data directory as `conlab cluster up` chose it; `serve --data` overrides it.
        public var data: String?
        /// The process `conlab cluster up` started for it, for `status` and `down`.
        public var pid: Int32?
        /// Where the member takes fault-injection commands (`NodeServer+Admin.swift`), for the
        /// real-process driver of `conlab run --real`; nil: it takes none.
        public var admin: SocketAddress?
    }

    /// Where the secret comes from: written in the file, or in a file of its own (which a cluster
    /// file that is shared or committed should use).
    public enum SecretSource: Sendable {
        case inline
        case file(String)
    }

    /// The file this was read from, for messages and for paths relative to it.
    public var file: String
    /// Shared by the members' handshakes: a link to a member of another cluster is refused.
    public var clusterID: UInt64
    public var secret: [UInt8]
    public var secretSource: SecretSource
    /// Redis's `requirepass`: the password clients must `AUTH` with, and where it comes from;
    /// `nil`, clients need none (the nodes then trust whoever reaches their client port).
    public var requirepass: [UInt8]?
    public var requirepassSource: SecretSource?
    /// The backend every member runs, with its validated options.
    public var backend: BackendSpec
    /// How long a node waits for the answer to a client's request (found leader or not) before it
    /// answers the client itself: with the refusal it last got (no leader), or that the outcome is
    /// unknown.
    public var requestTimeout: TimeSpan
    /// Members in id order: n1, n2, …
    public var members: [Member]
    /// The server group of a sharded store these members form (`"shardGroup"`): their Raft log
    /// then applies to the group's `ShardStore` instead of the plain store; nil for a plain cluster.
    public var shardGroup: ShardGroupRole? = nil

    /// A cluster's part in a sharded store: which group it is and how many buckets the key space has.
    public struct ShardGroupRole: Sendable, Equatable {
        public var group: GroupID
        public var buckets: Int
    }

    public var memberIDs: [NodeID] { members.map(\.id) }

    public func member(_ id: NodeID) -> Member? { members.first { $0.id == id } }

    /// The Raft options a member runs with: the cluster file's, replicating the group's
    /// `ShardStore` when the members form a shard group.
    func served(_ options: RaftOptions) -> RaftOptions {
        guard let role = shardGroup else { return options }
        var served = options
        served.stateMachine = ShardStore.recipe(group: role.group, buckets: role.buckets)
        return served
    }
}
