/// What only the lab asks of a backend: its applied state, compared across replicas after a run,
/// and faults that only the protocol itself can exhibit.
///
/// Kept apart from `ReplicationBackend` so that nothing a production driver (a `conlab serve`
/// process) calls can inject a fault or read state past the protocol: the simulator and the tests
/// require `LabBackend`, a runtime requires only `ReplicationBackend`.
public protocol LabBackend: ReplicationBackend {
    /// The node's key-value state machine as applied so far; `nil` for a node that holds no replica
    /// (a front end that only forwards).
    var appliedData: [String: String]? { get }

    /// Arms a fault the scenario asks the protocol to exhibit (e.g. a participant that votes no).
    /// A step of its own: it may emit events, and never touches storage.
    mutating func inject(_ fault: InjectedFault, at now: Instant, into out: inout Effects<Self>)
}

extension LabBackend {
    /// Protocols without votes to refuse (Raft, ZAB, primary-backup, the unreplicated server)
    /// have no protocol-level fault to exhibit: the fault is ignored.
    public mutating func inject(_ fault: InjectedFault, at now: Instant, into out: inout Effects<Self>) {}
}

/// Faults that only the protocol can express, because they change what it decides.
public enum InjectedFault: Hashable, Sendable {
    /// Fail the named phase (a message kind, e.g. `"PREPARE"`, `"PRECOMMIT"`) the next `count`
    /// times it is asked of this node (`everyTime`: from now on); `nil` means the next vote or
    /// phase whatever it is.
    case reject(phase: String?, count: Int)

    /// A `reject` count that never runs out.
    public static let everyTime = Int.max
}
