import ConsensusCore
import Storage

extension NodeHost where Backend: LabBackend {
    /// Arms a fault the protocol itself exhibits, as a step of its own (the lab's drivers only:
    /// a runtime's hosts never require `LabBackend`).
    package mutating func inject(_ fault: InjectedFault, at now: Instant) throws(StorageError) {
        try step { backend, effects in backend.inject(fault, at: now, into: &effects) }
    }
}
