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
    ///
    /// `linksFail`: some step of the run keeps a live node's messages from another for longer than
    /// a timeout (`HuntTrial.linksFail(_:)`). 3PC is non-blocking and atomic only where a timeout
    /// means a crash — sites fail by stopping, the network delivers (Skeen 1981; Bernstein,
    /// Hadzilacos & Goodman 1987, ch. 7: where links can fail, every atomic commitment protocol
    /// may block, and 3PC, which does not, may decide both ways). Where they fail, a coordinator
    /// that misses one PreCommit acknowledgement aborts and answers its client so, while the
    /// pre-committed participants it no longer reaches commit when their timer runs out (or elect
    /// a coordinator of their own, which commits). On those replicas the write its client was told
    /// had failed then holds the key; where they are a majority that is the key's final value, and
    /// every write acknowledged before it is lost (hunt seed 296: a one-way cut from the
    /// coordinator right after its PreCommits; `HuntTests.threePhaseCommitIsNotJudgedOnDurabilityWhereLinksFail`).
    /// So 3PC promises durability only when no link fails; crashes, restarts and disk faults are
    /// still judged.
    public static func made(by backend: BackendSpec, clockSpread: Double, linksFail: Bool) -> Promises {
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
        case "3pc": return linksFail ? [] : [.durable]
        case "primary-backup": return [.convergent, .liveAfterHeal, .invariantsHold]
        default: return []
        }
    }
}
