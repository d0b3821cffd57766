import ConsensusCore
import KVStore
import Simulator

/// A system the lab does not implement but runs beside its own backends under the same scenario
/// files (`{"external": "etcd"}`): the real driver starts it from its Debian package, drives it
/// with the scenario's clients and applies the faults it can to its processes and links. The simulator cannot run it
/// (there is no state machine of it to simulate), so its validation refuses such a backend.
public enum ExternalSystem: String, CaseIterable, Sendable {
    case etcd
    case redisSentinel = "redis-sentinel"

    /// What `apt-get install -y` needs for it: the message of a missing binary names them.
    public var debianPackages: [String] {
        switch self {
        case .etcd: ["etcd-server"]
        case .redisSentinel: ["redis-server", "redis-sentinel"]
        }
    }

    var summary: String {
        switch self {
        case .etcd: "etcd 3.4: the best-known Raft KV, through its v3 HTTP/JSON gateway"
        case .redisSentinel: "Redis with Sentinel: asynchronous primary–replica with Sentinel failover"
        }
    }

    /// The backend kind a scenario names it by, with its options (`EtcdOptions`,
    /// `RedisSentinelOptions`). It keeps no client sessions (its clients have none: a request that
    /// timed out stays indeterminate), so the lab's session checks pass it by.
    var kind: BackendKind {
        switch self {
        case .etcd: kind(EtcdOptions.self) { options throws(OptionError) in
            try options.validate()
            return .etcd(options)
        }
        case .redisSentinel: kind(RedisSentinelOptions.self) { .redisSentinel($0) }
        }
    }

    private func kind<O: BackendOptions>(_: O.Type, _ backend: @escaping @Sendable (O) throws(OptionError) -> ExternalBackend) -> BackendKind {
        BackendKind(name: rawValue, summary: summary, options: O.documentation, messageKinds: [], atomicCommit: false, configure: { options in
            Result { () throws(OptionError) -> BackendKind.Configured in
                let external = try backend(try BackendKind.configured(O.self, options))
                return (try BackendKind.variantLabel(O.self, options), SessionOptions(), { _ in
                    preconditionFailure("the simulator ran external system \(self.rawValue); SimulatorDriver.validate refuses it")
                }, NotSimulated(system: self), external)
            }
        })
    }

    static func named(_ name: String) -> ExternalSystem? { ExternalSystem(rawValue: name) }
}

/// An external backend as a scenario configured it.
public enum ExternalBackend: Hashable, Sendable {
    case etcd(EtcdOptions)
    case redisSentinel(RedisSentinelOptions)

    public var system: ExternalSystem {
        switch self {
        case .etcd: .etcd
        case .redisSentinel: .redisSentinel
        }
    }

    /// Reads through the cheaper path (`read` option): etcd's serializable range, Redis's GET at
    /// the client's own node.
    public var cheapReads: Bool {
        switch self {
        case .etcd(let options): options.read == .serializable
        case .redisSentinel(let options): options.read == .replica
        }
    }
}

/// An external system has no backend type for a `conlab serve` node: a cluster file refuses it
/// before anything visits it.
private struct NotSimulated: BoundBackend {
    let system: ExternalSystem

    func accept<V: BackendVisitor>(_ visitor: V) -> V.Output {
        preconditionFailure("a node was asked to serve external system \(system.rawValue); ClusterFile refuses it")
    }
}
