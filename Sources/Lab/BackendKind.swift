import ConsensusCore
import KVStore
import PrimaryBackup
import Raft
import Simulator
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// A backend the lab can run, erased to a value so scenarios can name it by string while the
/// simulation itself stays generic (and specialised) over the concrete type.
public struct BackendKind: Sendable {
    public let name: String
    public let summary: String
    public let options: [OptionDoc]
    /// Message kinds the protocol sends, for validating fault triggers.
    public let messageKinds: [String]
    /// Whether it replicates by atomic commit (2PC, 3PC): its participants wait in doubt, and
    /// the `in_doubt_*` columns and the in-doubt lanes of the charts apply to it.
    public let atomicCommit: Bool
    /// Applies options in file order: the variant label, and a simulation bound to the typed options.
    let configure: @Sendable ([(name: String, value: JSONValue)]) -> Result<Configured, OptionError>

    typealias Configured = (variant: String, sessions: SessionOptions, simulate: @Sendable (SimulationConfig) -> SimulationResult,
                            bound: any BoundBackend, external: ExternalBackend?)

    static func make<B: LabBackend>(_: B.Type, summary: String, atomicCommit: Bool = false) -> BackendKind where B.Options: SessionBackendOptions {
        BackendKind(
            name: B.protocolName, summary: summary, options: B.Options.documentation,
            messageKinds: B.Message.Kind.allCases.map(\.rawValue), atomicCommit: atomicCommit,
            configure: { options in
                Result { () throws(OptionError) -> Configured in
                    let typed = try configured(B.Options.self, options)
                    return (try variantLabel(B.Options.self, options), typed.sessions, { config in Simulation<B>(config: config, options: typed).run() },
                            Bound<B>(options: typed), nil)
                }
            })
    }

    /// Validates options and names those that differ from the defaults.
    static func variantLabel<O: BackendOptions>(_: O.Type, _ options: [(name: String, value: JSONValue)]) throws(OptionError) -> String {
        var labels: [String] = []
        for option in options {
            var single = O()
            try single.set(option.name, to: option.value)
            if single != O() {
                let text: String = if case .string(let s) = option.value { s } else { option.value.serialized }
                labels.append("\(option.name)=\(text)")
            }
        }
        return labels.joined(separator: ";")
    }

    static func configured<O: BackendOptions>(_: O.Type, _ options: [(name: String, value: JSONValue)]) throws(OptionError) -> O {
        var result = O()
        for option in options { try result.set(option.name, to: option.value) }
        return result
    }
}

/// Every backend the lab knows, in the order reports list them.
public enum Backends {
    public static let all: [BackendKind] = [
        .make(Unreplicated.self, summary: "one server holds the data, other nodes forward to it (the baseline)"),
        .make(Raft.self, summary: "Raft with PreVote, CheckQuorum, batching, pipelining, snapshots and four read modes"),
        .make(Zab.self, summary: "ZooKeeper's atomic broadcast: Fast Leader Election, discovery, DIFF/TRUNC/SNAP sync, quorum broadcast"),
        .make(TwoPhaseCommit.self, summary: "write-all by two-phase commit: safe, blocks while a coordinator is gone", atomicCommit: true),
        .make(ThreePhaseCommit.self, summary: "write-all by three-phase commit: decides by timeout, diverges under partitions", atomicCommit: true),
        .make(PrimaryBackup.self, summary: "asynchronous primary–backup with Sentinel-style failover, as Redis (AP: acknowledged writes can be lost)"),
    ]

    static func named(_ name: String) -> BackendKind? { all.first { $0.name == name } }

    /// The external systems a scenario may list (`{"external": "etcd"}`), in the order reports list them.
    public static let external: [BackendKind] = ExternalSystem.allCases.map(\.kind)
}
