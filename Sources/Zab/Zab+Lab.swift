import ConsensusCore

/// The lab's view of a ZAB node: its state machine as delivered so far.
extension Zab: LabBackend {
    public var appliedData: [String: String]? { store.data }
}
