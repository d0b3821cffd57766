import ConsensusCore

/// The lab's view of a 2PC node, and the scenario's `reject` fault: a participant that votes no
/// on the next PREPAREs it is asked.
extension TwoPhaseCommit: LabBackend {
    public var appliedData: [String: String]? { core.store.data }

    public mutating func inject(_ fault: InjectedFault, at now: Instant, into out: inout Effects<TwoPhaseCommit>) {
        core.inject(fault, phases: [Message.Kind.prepare.rawValue], into: &out)
    }
}
