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

    /// The read paths, default first: the system's own linearizable path (etcd's read index
    /// through the leader; Redis's primary, the closest it has), then the cheaper one.
    var readModes: [String] {
        switch self {
        case .etcd: ["linearizable", "serializable"]
        case .redisSentinel: ["primary", "replica"]
        }
    }

    /// The backend kind a scenario names it by. Its only option is `read`; it keeps no client
    /// sessions (its clients have none: a request that timed out stays indeterminate), so the
    /// lab's session checks pass it by.
    var kind: BackendKind {
        let modes = readModes
        let doc = OptionDoc("read", values: modes.joined(separator: " | "), default: "\"\(modes[0])\"",
                            self == .etcd ? "linearizable: a range through the leader's read index; serializable: the member answers from its own state"
                                          : "primary: every request to Sentinel's primary; replica: a GET to the client's own node, primary or replica")
        return BackendKind(name: rawValue, summary: summary, options: [doc], messageKinds: [], atomicCommit: false, configure: { options in
            Result { () throws(OptionError) -> BackendKind.Configured in
                var cheapReads = false
                for option in options {
                    guard option.name == "read" else { throw OptionError(option.name, "unknown option; \(self.rawValue) takes only \"read\"") }
                    guard case .string(let mode) = option.value, let index = modes.firstIndex(of: mode) else {
                        throw OptionError("read", "expected \(modes.map { "\"\($0)\"" }.joined(separator: " or "))")
                    }
                    cheapReads = index == 1
                }
                return (cheapReads ? "read=\(modes[1])" : "", SessionOptions(), { _ in
                    preconditionFailure("the simulator ran external system \(self.rawValue); SimulatorDriver.validate refuses it")
                }, NotSimulated(system: self), ExternalBackend(system: self, cheapReads: cheapReads))
            }
        })
    }

    static func named(_ name: String) -> ExternalSystem? { ExternalSystem(rawValue: name) }
}

/// An external backend as a scenario configured it.
public struct ExternalBackend: Hashable, Sendable {
    public var system: ExternalSystem
    /// Reads through the cheaper path (`read` option): etcd's serializable range, Redis's GET at
    /// the client's own node.
    public var cheapReads: Bool
}

/// An external system has no backend type for a `conlab serve` node: a cluster file refuses it
/// before anything visits it.
private struct NotSimulated: BoundBackend {
    let system: ExternalSystem

    func accept<V: BackendVisitor>(_ visitor: V) -> V.Output {
        preconditionFailure("a node was asked to serve external system \(system.rawValue); ClusterFile refuses it")
    }
}
