/// One version of the config table: which group serves each bucket, and which servers make up
/// each group (eraft's config table, 6.824's `Config`). Versions are numbered from 0, the table
/// before any group joined, in which no bucket has an owner.
public struct ShardConfiguration: Equatable, Sendable {
    public var number: Int
    /// Per bucket, the group serving it; `nil` while no group exists.
    public var owners: [GroupID?]
    /// Each group's servers, as clients address them.
    public var groups: [GroupID: [String]]

    public init(number: Int, owners: [GroupID?], groups: [GroupID: [String]]) {
        self.number = number
        self.owners = owners
        self.groups = groups
    }

    /// The empty table of `buckets` buckets: version 0.
    public static func initial(buckets: Int) -> ShardConfiguration {
        ShardConfiguration(number: 0, owners: Array(repeating: nil, count: buckets), groups: [:])
    }

    public func owner(of bucket: Bucket) -> GroupID? { owners[bucket.index] }

    /// The buckets each group serves, in bucket order; groups serving none included.
    public var bucketsByGroup: [GroupID: [Bucket]] {
        var served = Dictionary(uniqueKeysWithValues: groups.keys.map { ($0, [Bucket]()) })
        for (index, owner) in owners.enumerated() {
            if let owner { served[owner, default: []].append(Bucket(index)) }
        }
        return served
    }
}

/// A change to the config table (6.824's Join, Leave, Move).
public enum ConfigurationChange: Equatable, Sendable {
    /// New groups with their servers (a group already present gets the new list).
    case join([GroupID: [String]])
    /// Groups leaving; their buckets go to those that stay.
    case leave([GroupID])
    /// One bucket to one group, with no rebalancing (an operator's manual placement).
    case move(Bucket, to: GroupID)
}

extension ConfigurationChange {
    /// As an operator says it: `join g4`, `leave g1, g2`, `move b3 to g2`.
    public var summary: String {
        switch self {
        case .join(let groups): "join " + groups.keys.sorted().map(\.description).joined(separator: ", ")
        case .leave(let groups): "leave " + groups.map(\.description).joined(separator: ", ")
        case .move(let bucket, let group): "move \(bucket) to \(group)"
        }
    }

    /// The groups the change adds (none but for a join).
    public var joining: Set<GroupID> {
        if case .join(let groups) = self { Set(groups.keys) } else { [] }
    }
}

public enum ConfigurationRefusal: Error, Equatable, Sendable {
    case noSuchBucket(Bucket)
    case noSuchGroup(GroupID)
    case noServers(GroupID)
}

extension ShardConfiguration {
    /// The next version: this one with `change` applied, rebalanced after a join or a leave
    /// (`Rebalancing`). A pure function, so every replica and every clerk computes the same table.
    public func applying(_ change: ConfigurationChange) -> Result<ShardConfiguration, ConfigurationRefusal> {
        switch change {
        case .join(let joining):
            if let empty = joining.keys.sorted().first(where: { joining[$0]!.isEmpty }) { return .failure(.noServers(empty)) }
            return .success(next(groups: groups.merging(joining) { _, new in new }, owners: owners, rebalance: true))
        case .leave(let leaving):
            return .success(next(groups: groups.filter { !leaving.contains($0.key) }, owners: owners, rebalance: true))
        case .move(let bucket, let group):
            guard owners.indices.contains(bucket.index) else { return .failure(.noSuchBucket(bucket)) }
            guard groups[group] != nil else { return .failure(.noSuchGroup(group)) }
            var moved = owners
            moved[bucket.index] = group
            return .success(next(groups: groups, owners: moved, rebalance: false))
        }
    }

    private func next(groups: [GroupID: [String]], owners: [GroupID?], rebalance: Bool) -> ShardConfiguration {
        ShardConfiguration(number: number + 1, owners: rebalance ? Rebalancing.balanced(owners, among: Array(groups.keys)) : owners, groups: groups)
    }
}
