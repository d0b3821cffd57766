import Runtime
import Server

/// What `conlab load` measures: a cluster of ours over the Redis protocol, or etcd over its v3
/// HTTP/JSON gateway, at one or more addresses; clients are spread over them round-robin. Or a
/// sharded store of our clusters (`shard:META.json,G1.json,…`): each client routes every key to
/// the group the latest configuration gives its bucket, at the member of its index.
public struct LoadTarget: Hashable, Sendable, CustomStringConvertible {
    public enum System: String, Hashable, Sendable {
        case resp, etcd, shard
    }

    public var system: System
    /// The target's addresses; for a sharded store, the metaserver's.
    public var addresses: [SocketAddress]
    /// A sharded store's cluster files: the metaserver's, then each group's.
    public var clusterFiles: [String] = []

    public init(system: System, addresses: [SocketAddress]) {
        precondition(!addresses.isEmpty, "a target needs an address")
        self.system = system
        self.addresses = addresses
    }

    /// `resp://127.0.0.1:7001,127.0.0.1:7002` or `etcd://127.0.0.1:2379`: numeric IPv4 addresses
    /// (a client thread resolving names would time the resolver), each with its port.
    public init(parsing text: String) throws(LoadInputError) {
        if text.hasPrefix("shard:") {
            self = try Self.sharded(files: text.dropFirst("shard:".count).split(separator: ",").map(String.init))
            return
        }
        guard let separator = text.range(of: "://"), let system = System(rawValue: String(text[..<separator.lowerBound])) else {
            throw LoadInputError("--target", "'\(text)' does not start with resp:// or etcd:// (e.g. resp://127.0.0.1:7001,127.0.0.1:7002)")
        }
        var list = text[separator.upperBound...]
        if list.hasSuffix("/") { list = list.dropLast() }
        guard !list.isEmpty else { throw LoadInputError("--target", "'\(text)' names no address") }
        var addresses: [SocketAddress] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let address = SocketAddress(parsing: String(item)) else {
                throw LoadInputError("--target", "'\(item)' is not an IPv4 address with a port, e.g. 127.0.0.1:7001")
            }
            guard address.port != 0 else { throw LoadInputError("--target", "'\(item)': port 0 is no server's port") }
            addresses.append(address)
        }
        self.init(system: system, addresses: addresses)
    }

    /// `shard:META.json,G1.json,…`: the files must make a sharded store (`ShardDriver` says why not).
    static func sharded(files: [String]) throws(LoadInputError) -> LoadTarget {
        guard files.count >= 2 else { throw LoadInputError("--target", "shard: takes the metaserver's cluster file, then each group's: shard:meta.json,g1.json,g2.json") }
        let configurations: [ClusterConfiguration]
        do { configurations = try files.map { try ClusterFile.load(path: $0) } } catch {
            throw LoadInputError("--target", "\(error)")
        }
        do { _ = try ShardDriver(metaserver: configurations[0], groups: Array(configurations.dropFirst())) } catch {
            throw LoadInputError("--target", error.description)
        }
        var target = LoadTarget(system: .shard, addresses: configurations[0].members.map(\.client))
        target.clusterFiles = files
        return target
    }

    /// The address client `index` talks to.
    public func address(ofClient index: Int) -> SocketAddress { addresses[index % addresses.count] }

    public var description: String {
        system == .shard ? "shard:" + clusterFiles.joined(separator: ",") : "\(system.rawValue)://" + addresses.map(\.description).joined(separator: ",")
    }
}
