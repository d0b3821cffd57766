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

/// The bucket moves of a sharded run, read off the controller's steps as their answers arrive: a
/// group adopting version n freezes the buckets n takes from it; installing one at its new owner
/// ends that bucket's window. A controller may walk the chain again (after a failure, or when it
/// grows) and get `done` at once for steps carried out before: the first answer is the one that
/// counts, and a bucket is installed once per version.
public struct MigrationLog: Sendable {
    public private(set) var windows: [MigrationWindow] = []
    /// When each group first adopted each version.
    private var adopted: [Int: [GroupID: Instant]] = [:]

    public init() {}

    /// Notes what `step`, answered at `time`, means; `known` is the chain the controller walks.
    public mutating func note(_ step: ShardController.Step, known: [ShardConfiguration], at time: Instant) {
        switch step.control {
        case .adopt(let version):
            if adopted[version.number]?[step.group] == nil { adopted[version.number, default: [:]][step.group] = time }
        case .install(let bucket, let number, _):
            guard !windows.contains(where: { $0.bucket == bucket && $0.version == number }) else { return }
            let from = number > 1 ? known.first { $0.number == number - 1 }?.owner(of: bucket) : nil
            let frozen = from.flatMap { adopted[number]?[$0] } ?? time
            windows.append(MigrationWindow(bucket: bucket, version: number, from: from, to: step.group, frozen: frozen, installed: time))
        default:
            break
        }
    }
}
