/// The metaserver's state: the chain of config-table versions (eraft's "version chain", 6.824's
/// shardctrler). A pure, deterministic state machine: each replica of the metaserver applies the
/// same commands in the same (Raft) order and holds the same chain. Every change appends a version;
/// nothing is ever rewritten, so a query of an old number answers as it did then.
public struct ConfigurationChain: Equatable, Sendable {
    public private(set) var versions: [ShardConfiguration]

    public init(buckets: Int) {
        precondition(buckets > 0, "a table has at least one bucket")
        versions = [.initial(buckets: buckets)]
    }

    public var latest: ShardConfiguration { versions[versions.count - 1] }

    /// A command of the metaserver's clients (6.824's Join, Leave, Move, Query).
    public enum Command: Equatable, Sendable {
        /// New groups with their servers (a group already present gets the new list).
        case join([GroupID: [String]])
        /// Groups leaving; their buckets go to those that stay.
        case leave([GroupID])
        /// One bucket to one group, with no rebalancing (an operator's manual placement).
        case move(Bucket, to: GroupID)
        /// The version of this number, or the latest for `nil` or a number not reached yet.
        case query(Int?)
    }

    public enum Refusal: Error, Equatable, Sendable {
        case noSuchBucket(Bucket)
        case noSuchGroup(GroupID)
        case noServers(GroupID)
    }

    /// Applies a command; returns the version it made or, for a query, the one asked for.
    @discardableResult
    public mutating func apply(_ command: Command) -> Result<ShardConfiguration, Refusal> {
        switch command {
        case .join(let joining):
            if let empty = joining.keys.sorted().first(where: { joining[$0]!.isEmpty }) { return .failure(.noServers(empty)) }
            return .success(append(groups: latest.groups.merging(joining) { _, new in new }, owners: latest.owners, rebalance: true))
        case .leave(let leaving):
            let staying = latest.groups.filter { !leaving.contains($0.key) }
            return .success(append(groups: staying, owners: latest.owners, rebalance: true))
        case .move(let bucket, let group):
            guard latest.owners.indices.contains(bucket.index) else { return .failure(.noSuchBucket(bucket)) }
            guard latest.groups[group] != nil else { return .failure(.noSuchGroup(group)) }
            var owners = latest.owners
            owners[bucket.index] = group
            return .success(append(groups: latest.groups, owners: owners, rebalance: false))
        case .query(let number):
            guard let number, versions.indices.contains(number) else { return .success(latest) }
            return .success(versions[number])
        }
    }

    private mutating func append(groups: [GroupID: [String]], owners: [GroupID?], rebalance: Bool) -> ShardConfiguration {
        let next = ShardConfiguration(
            number: versions.count, owners: rebalance ? Rebalancing.balanced(owners, among: Array(groups.keys)) : owners, groups: groups)
        versions.append(next)
        return next
    }
}
