import ConsensusCore
import Sharding

/// One bucket's move: from the moment its old owner froze it (adopted the version that gives it
/// away) until its new owner installed it and serves it. In between no group serves the bucket:
/// what a client of one of its keys sees as unavailability, and the rest of the table keeps serving.
public struct MigrationWindow: Hashable, Sendable {
    public var bucket: Bucket
    public var version: Int
    /// The owner before; nil when the bucket had none (the first configuration).
    public var from: GroupID?
    public var to: GroupID
    public var frozen: Instant
    public var installed: Instant

    public var length: TimeSpan { installed - frozen }
}

extension MigrationWindow: CustomStringConvertible {
    /// `b3 g1→g4 (v2): unserved for 84 ms`.
    public var description: String {
        "\(bucket) \(from.map(\.description) ?? "none")→\(to) (v\(version)): unserved for \(length.microseconds / 1_000) ms"
    }
}
