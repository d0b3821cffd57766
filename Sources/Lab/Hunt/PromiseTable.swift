import ConsensusCore

extension Promises {
    /// What a backend variant promises, as its conformance tests assert it (Tests/*Tests/
    /// ConformanceTests.swift and the backends' cluster tests say why): the set `conlab hunt`
    /// judges a drawn run against. `clocksSkewed`: the run's nemesis makes clocks run fast or
    /// slow, which Raft's leases assume they do not.
    ///
    /// Raft without PreVote or without CheckQuorum keeps safety, but a rejoining node may depose
    /// a working leader; whether that always settles within a quiescence is not a promise its
    /// tests make, so such variants are not judged on `liveAfterHeal`.
    public static func made(by backend: BackendSpec, clocksSkewed: Bool) -> Promises {
        func option(_ name: String) -> JSONValue? { backend.options.last { $0.name == name }?.value }
        guard backend.external == nil else { return [] }
        switch backend.kind.name {
        case "raft":
            var promises = Promises.all.union(.liveAfterHeal)
            let read = option("read").flatMap { if case .string(let mode) = $0 { mode } else { nil } } ?? "readIndex"
            if read == "unsafeLocal" || (read == "lease" && clocksSkewed) { promises.remove(.linearizable) }
            if option("prevote") == .bool(false) || option("checkQuorum") == .bool(false) { promises.remove(.liveAfterHeal) }
            return promises
        case "zab":
            let promises: Promises = [.durable, .convergent, .liveAfterHeal, .invariantsHold]
            return option("read") == .string("sync") ? promises.union(.linearizable) : promises
        case "2pc", "unreplicated": return .all
        case "3pc": return [.durable]
        case "primary-backup": return [.convergent, .liveAfterHeal]
        default: return []
        }
    }
}
