import ConsensusCore

/// The lab's view of the unreplicated cluster: only the server holds the data; the other nodes
/// are front ends that forward.
extension Unreplicated: LabBackend {
    public var appliedData: [String: String]? { id == server ? store.data : nil }
}
