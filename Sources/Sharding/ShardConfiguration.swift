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
