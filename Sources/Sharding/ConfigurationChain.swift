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

    /// A request to the metaserver (6.824's Join, Leave, Move, Query): a change, or a query.
    public enum Command: Equatable, Sendable {
        case change(ConfigurationChange)
        /// The version of this number, or the latest for `nil` or a number not reached yet.
        case query(Int?)

        public static func join(_ groups: [GroupID: [String]]) -> Command { .change(.join(groups)) }
        public static func leave(_ groups: [GroupID]) -> Command { .change(.leave(groups)) }
        public static func move(_ bucket: Bucket, to group: GroupID) -> Command { .change(.move(bucket, to: group)) }
    }

    /// Applies a command; returns the version it made or, for a query, the one asked for.
    @discardableResult
    public mutating func apply(_ command: Command) -> Result<ShardConfiguration, ConfigurationRefusal> {
        switch command {
        case .change(let change):
            let next = latest.applying(change)
            if case .success(let version) = next { versions.append(version) }
            return next
        case .query(let number):
            guard let number, versions.indices.contains(number) else { return .success(latest) }
            return .success(versions[number])
        }
    }
}
