import ConsensusCore
import Storage

/// What the simulator records about a run, as typed values: the backends' observations it keeps
/// and the faults, crashes and leadership changes it causes or sees. Code that asks what happened
/// matches on these cases; only `events.csv` turns them into words (`kind`, `detail`).
public enum SimulationEvent: Hashable, Sendable {
    /// A node changed role; `name` is the protocol's own word ("candidate", "LOOKING", "primary").
    case role(Role, term: UInt64, name: String)
    /// The cluster's leader changed (`nil`: no live node leads; the term is then 0).
    case leader(NodeID?, term: UInt64)
    /// A fault step took effect on `targets` (the nodes a crash, pause, slow-down… hit; empty for
    /// network-wide actions). `reachability` is who reaches whom right after a partition or cut.
    case fault(FaultAction, targets: [NodeID], reachability: Reachability?)
    /// Every fault undone at the end of the workload, so that replicas can converge.
    case healedForQuiescence
    /// A step whose role target has no holder yet (no leader during an election); it is retried.
    case faultDeferred(FaultAction)
    /// The trigger of fault step `step` (zero-based, in the scenario's order) fired.
    case triggerFired(step: Int)
    /// A node crashed, losing the storage operations it had not synced.
    case crash(lostOperations: Int)
    /// A node started for the first time from what its storage held.
    case start(recoveredEntries: Int, snapshotIndex: LogIndex?)
    /// A crashed node started again from what its storage synced.
    case restart(recoveredEntries: Int, snapshotIndex: LogIndex?)
    /// A real node's process was killed (`conlab run --real`'s crash: SIGKILL). What it had not
    /// synced is gone, but how much is not known outside the process.
    case processKilled(pid: Int32)
    /// A real node's process started (`restart`: again, on its data directory), as pid `pid`.
    case processStarted(pid: Int32, restart: Bool)
    /// A node's storage could not be recovered (a corrupt record: the reason names the file and
    /// offset); the node stays down rather than start with silently truncated data.
    case restartFailed(reason: String)
    /// Starting, the node's log found a write cut short by a crash at its end and cut it off.
    case tornTailRepaired(file: String, droppedBytes: Int)
    /// The node started although its disk had damaged synced data since its last start (the
    /// counts say how): the damage was somewhere recovery never reads, or it cost records that
    /// recovery cannot tell from a torn write (a lost write at the log's end, a bit flip in its
    /// last record). Replication protocols assume a disk never does this silently; what such a
    /// node acknowledged may be gone (protocol-aware recovery, Alagappan et al., FAST 2018).
    case diskDamageUnnoticed(DiskFaultCounts)
    /// A leader's first commit in its term: the moment it can serve (Raft §8).
    case firstCommit(index: LogIndex, term: UInt64)
    /// A participant blocked in doubt (atomic commit): it voted YES on `transaction`, a write of
    /// `key`, and waited `duration` from this line, holding the key's lock, until `ending`. Only
    /// waits of at least `InDoubtSpan.blocking` are recorded, not the round trip every write costs.
    case inDoubt(transaction: UInt64, key: String, duration: TimeSpan, ending: InDoubtSpan.Ending)
    /// This node coordinates `transaction`, a write of `key`, and participants are blocked in doubt
    /// about it for `duration` from this line on (from the first participant's `inDoubt` to the
    /// last one's decision).
    case coordinatedInDoubt(transaction: UInt64, key: String, duration: TimeSpan, resolved: Bool)
    /// A backend's note (sync mode chosen, election round, …).
    case note(kind: String, detail: String)
    /// A state the backend's own invariants exclude, which it reported.
    case violation(SafetyViolation)
}

extension SimulationEvent {
    /// A fault line (a step applied, or the final heal): what fault windows list and what starts
    /// the clock of `recovery_ms`.
    public var isFault: Bool {
        switch self {
        case .fault, .healedForQuiescence: true
        default: false
        }
    }
}
