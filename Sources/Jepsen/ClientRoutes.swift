import ConsensusCore
import Dispatch
import Runtime
import Server
import Sharding

/// Where the clients of a real run send their requests (`ClientEngine`). A destination is a
/// cluster a client keeps one connection to: its own node of one cluster (`PinnedRoutes`), or the
/// group of a sharded store that serves the key (`ShardRoutes`). Asked on the clients' loop only.
protocol ClientRoutes: AnyObject {
    /// How many homes the clients are spread over: `clientsPerNode` clients each.
    var homes: Int { get }
    /// Where `command` of a client at `home` goes now; nil when nothing is known to serve its key.
    func destination(of command: Command, home: Int) -> Int?
    /// The address a client connects to at `destination`.
    func address(_ destination: Int, home: Int, client: ClientID) -> SocketAddress
    /// The node the history names for a request sent to `destination` (numbered across the deployment).
    func node(_ destination: Int, home: Int, client: ClientID) -> NodeID
    /// A destination said it does not serve a key: what is known of who does is out of date.
    func refresh()
    /// The member through which `client` reaches `destination` failed it (no connection, or no
    /// leader in its reach): whether the client goes through another member from now on.
    func moveOn(from destination: Int, client: ClientID) -> Bool
}

extension ClientRoutes {
    /// The node a request is recorded at when invoked: where it goes, or the client's home.
    func node(of command: Command, home: Int, client: ClientID) -> NodeID {
        node(destination(of: command, home: home) ?? home, home: home, client: client)
    }
}

/// Routes that also carry a cross-shard transaction's steps: to a server group, or to the store
/// of decisions (the metaserver).
protocol TransactionRoutes: ClientRoutes {
    /// The configuration keys are routed by now.
    var configuration: ShardConfiguration { get }
    func destination(of target: TransactionClerk.Target) -> Int
    /// The server group at `destination`; nil for the metaserver.
    func group(at destination: Int) -> GroupID?
}

/// One cluster: every client pinned to its node, which forwards to the leader itself.
final class PinnedRoutes: ClientRoutes {
    private let addresses: [SocketAddress]

    init(_ addresses: [SocketAddress]) { self.addresses = addresses }

    var homes: Int { addresses.count }
    func destination(of command: Command, home: Int) -> Int? { home }
    func address(_ destination: Int, home: Int, client: ClientID) -> SocketAddress { addresses[destination] }
    func node(_ destination: Int, home: Int, client: ClientID) -> NodeID { NodeID(destination + 1) }
    func refresh() {}
    /// Never: a client of one cluster stays with its node, as a Jepsen client does, so that what
    /// the node's faults cost its clients is what the run measures.
    func moveOn(from destination: Int, client: ClientID) -> Bool { false }
}

/// A sharded store (eraft's clients): a key goes to the group the configuration gives its bucket,
/// through one member of it (which forwards to its leader): member `client mod size` first, the
/// next one each time that member fails the client (a crashed member, or one cut off from its
/// group's leader), as the simulator's clients follow the leader. One configuration serves
/// every client: read from the metaserver whenever a client finds no group for a key (at the
/// start, before the first configuration is read), a group answers that it does not serve a key
/// (`WRONGGROUP`), or a transaction aborts. Reading it blocks on the network, so it happens on a
/// queue of its own, one lookup at a time, and the clients meanwhile wait their `redirectBackoff`.
/// The destinations are the groups in order, then the metaserver (a transaction's decisions).
final class ShardRoutes: TransactionRoutes, @unchecked Sendable {
    /// A cluster clients reach: a server group (or the metaserver, `id` nil).
    struct Cluster {
        var id: GroupID?
        var members: [SocketAddress]
        /// The number of its first node in the deployment's numbering, less one.
        var offset: Int
    }

    let homes: Int
    /// The groups, then the metaserver.
    private let clusters: [Cluster]
    private let destinations: [GroupID: Int]
    private let buckets: Int
    private let loop: EventLoop
    /// The newest configuration read (on the loop's thread).
    private(set) var configuration: ShardConfiguration
    private var looking = false
    /// Reads the metaserver; used on `lookups` only.
    private let driver: ShardDriver
    private let lookups = DispatchQueue(label: "conlab.shard-routes")
    /// Per client and destination, how many members it has moved on past (on the loop's thread).
    private var moves: [ClientID: [Int: Int]] = [:]

    /// `homes`: the groups clients are counted by (those of the first configuration).
    init(groups: [Cluster], metaserver: Cluster, homes: Int, driver: ShardDriver, loop: EventLoop) {
        clusters = groups + [metaserver]
        self.homes = homes
        self.driver = driver
        self.loop = loop
        buckets = driver.buckets
        destinations = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($0.element.id!, $0.offset) })
        configuration = .initial(buckets: driver.buckets)
    }

    func destination(of command: Command, home: Int) -> Int? {
        configuration.owner(of: Bucket.of(key: command.key, count: buckets)).flatMap { destinations[$0] }
    }

    func address(_ destination: Int, home: Int, client: ClientID) -> SocketAddress {
        clusters[destination].members[member(destination, client)]
    }

    func node(_ destination: Int, home: Int, client: ClientID) -> NodeID {
        NodeID(clusters[destination].offset + member(destination, client) + 1)
    }

    private func member(_ destination: Int, _ client: ClientID) -> Int {
        (client.rawValue + moves[client, default: [:]][destination, default: 0]) % clusters[destination].members.count
    }

    func moveOn(from destination: Int, client: ClientID) -> Bool {
        guard clusters[destination].members.count > 1 else { return false }
        moves[client, default: [:]][destination, default: 0] += 1
        return true
    }

    func destination(of target: TransactionClerk.Target) -> Int {
        switch target {
        case .group(let id): destinations[id]!
        case .decisions: clusters.count - 1
        }
    }

    func group(at destination: Int) -> GroupID? { clusters[destination].id }

    func refresh() {
        guard !looking else { return }
        looking = true
        let known = configuration
        lookups.async { [self] in
            let latest = try? driver.latest(after: known)
            _ = loop.execute { [self] in
                looking = false
                if let latest, latest.number > configuration.number { configuration = latest }
            }
        }
    }
}
