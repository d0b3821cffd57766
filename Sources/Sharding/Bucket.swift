/// A bucket: the unit of data a server group takes over or hands off (eraft's `bucket`, 6.824's
/// shard). Keys are hashed into a fixed number of buckets, so moving data between groups never
/// rehashes a key.
public struct Bucket: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: Int

    public init(_ index: Int) { self.index = index }

    /// The bucket of `key` among `count`: FNV-1a over the key's UTF-8 bytes, so that every client,
    /// on every machine and in every run, maps a key to the same bucket (Swift's `Hasher` is seeded
    /// per process and cannot be used for this).
    public static func of(key: String, count: Int) -> Bucket {
        precondition(count > 0, "a table has at least one bucket")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Bucket(Int(hash % UInt64(count)))
    }

    public static func < (a: Bucket, b: Bucket) -> Bool { a.index < b.index }
    public var description: String { "b\(index)" }
}

/// A server group: a replicated group (three Raft nodes in eraft) that serves the buckets the
/// configuration gives it. Numbered by whoever adds it; 6.824's gid.
public struct GroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    /// `g2`, as scenarios, cluster files and `conlab shard` name a group; nil for anything else.
    public init?(name: String) {
        guard name.hasPrefix("g"), let number = Int(name.dropFirst()), number >= 1 else { return nil }
        self.init(number)
    }

    public static func < (a: GroupID, b: GroupID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "g\(rawValue)" }
}
