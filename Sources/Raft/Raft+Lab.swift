import ConsensusCore

/// The lab's view of a Raft node: its state machine as applied through `lastApplied`.
extension Raft: LabBackend {
    public var appliedData: [String: String]? { store.data }
}
