import ConsensusCore

/// The lab's view of a primary-backup node: its state machine as applied so far.
extension PrimaryBackup: LabBackend {
    public var appliedData: [String: String]? { store.data }
}
