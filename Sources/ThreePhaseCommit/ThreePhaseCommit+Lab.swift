import ConsensusCore

/// The lab's view of a 3PC node, and the scenario's `reject` fault: a participant that refuses the
/// next CANCOMMITs or PRECOMMITs it is asked.
extension ThreePhaseCommit: LabBackend {
    public var appliedData: [String: String]? { core.store.data }

    public mutating func inject(_ fault: InjectedFault, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        core.inject(fault, phases: [Message.Kind.canCommit.rawValue, Message.Kind.preCommit.rawValue], into: &out)
    }
}
