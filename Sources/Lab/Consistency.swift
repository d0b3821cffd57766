import ConsensusCore
import Simulator

/// The consistency columns of `summary.csv` for one run.
public struct ConsistencySummary: Sendable, Hashable {
    /// `"true"`, `"false"` or `"unknown"`.
    public var linearizable: String
    public var staleReads: Int
    public var lostWrites: Int
    public var divergentKeys: Int
    public var atomicityViolations: Int

    static func check(_ result: SimulationResult) -> ConsistencySummary {
        ConsistencySummary(linearizable: "unknown", staleReads: 0, lostWrites: 0,
                           divergentKeys: divergentKeys(result.finalStates), atomicityViolations: 0)
    }

    /// Keys on which the live replicas' state machines differ.
    static func divergentKeys(_ states: [NodeID: [String: String]]) -> Int {
        let replicas = states.keys.sorted().map { states[$0]! }
        guard let first = replicas.first else { return 0 }
        let keys = Set(replicas.flatMap(\.keys))
        return keys.filter { key in replicas.contains { $0[key] != first[key] } }.count
    }
}
