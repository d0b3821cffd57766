import ConsensusCore
import Simulator

/// Where a run's faults cut the network, as the simulator recorded them (the reachability of its
/// fault events): for tests that ask which side of a partition a node or a client was on.
extension [EventRecord] {
    /// The first partition or cut whose resulting reachability satisfies `matches`, and its time.
    public func firstCut(where matches: (Reachability) -> Bool) -> (time: Instant, reachability: Reachability)? {
        for record in self {
            if case .fault(_, _, let reachability?) = record.event, matches(reachability) { return (record.time, reachability) }
        }
        return nil
    }

    /// The groups of the first partition that split the cluster into groups (`n1,n5 | n2,n3,n4`);
    /// empty if none did.
    public var partitionGroups: [Set<NodeID>] {
        firstCut { ($0.groups?.count ?? 0) > 1 }?.reachability.groups?.map(Set.init) ?? []
    }
}
