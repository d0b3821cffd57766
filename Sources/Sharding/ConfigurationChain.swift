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
        case join([GroupID: [String]])
        case leave([GroupID])
        case move(Bucket, to: GroupID)
        /// The version of this number, or the latest for `nil` or a number not reached yet.
        case query(Int?)
    }

    /// Applies a command; returns the version it made or, for a query, the one asked for.
    @discardableResult
    public mutating func apply(_ command: Command) -> Result<ShardConfiguration, ConfigurationRefusal> {
        let change: ConfigurationChange
        switch command {
        case .join(let groups): change = .join(groups)
        case .leave(let groups): change = .leave(groups)
        case .move(let bucket, let group): change = .move(bucket, to: group)
        case .query(let number):
            guard let number, versions.indices.contains(number) else { return .success(latest) }
            return .success(versions[number])
        }
        let next = latest.applying(change)
        if case .success(let version) = next { versions.append(version) }
        return next
    }
}
