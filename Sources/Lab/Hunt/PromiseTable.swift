import ConsensusCore
import Raft

extension Promises {
    /// What a backend variant promises, as its conformance tests assert it (Tests/*Tests/
    /// ConformanceTests.swift and the backends' cluster tests say why): the set `conlab hunt`
    /// judges a drawn run against. `clockSpread`: the slowest clock rate of the run over the
    /// fastest (1 when every clock keeps true time). Raft's lease (`clockDrift`) assumes one clock
    /// runs no slower than `1 − clockDrift` of another's rate: a follower's election timer then
    /// outlasts the leader's lease (thesis §6.4.1). Beyond that bound its reads promise nothing;
    /// within it a lease that outlasts the timer (`bug=unbounded-lease`) is a violation found.
    ///
    /// Raft without PreVote or without CheckQuorum keeps safety, but a rejoining node may depose
    /// a working leader; whether that always settles within a quiescence is not a promise its
    /// tests make, so such variants are not judged on `liveAfterHeal`.
    public static func made(by backend: BackendSpec, clockSpread: Double) -> Promises {
        func option(_ name: String) -> JSONValue? { backend.options.last { $0.name == name }?.value }
        guard backend.external == nil else { return [] }
        switch backend.kind.name {
        case "raft":
            var promises = Promises.all.union(.liveAfterHeal)
            let read = option("read").flatMap { if case .string(let mode) = $0 { mode } else { nil } } ?? "readIndex"
            let drift = option("clockDrift").flatMap { if case .number(let bound) = $0 { bound } else { nil } } ?? RaftOptions().clockDrift
            if read == "unsafeLocal" || (read == "lease" && clockSpread < 1 - drift) { promises.remove(.linearizable) }
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
