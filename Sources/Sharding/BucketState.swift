/// What a server group holds of one bucket, under the configuration it has adopted (6.824
/// shardkv's per-shard state). Only a `serving` bucket answers clients; the others answer
/// "wrong group", so that between the old owner's last write and the new owner's first the bucket
/// has exactly one writer or none — never two.
public enum BucketState: Equatable, Sendable {
    /// Owned here, with its data: clients are served.
    case serving
    /// Owned here since configuration `since`, its data still with `from`, the owner before.
    case pulling(since: Int, from: GroupID)
    /// Owned here until configuration `since`: the data stays, frozen, until the new owner has it.
    case leaving(since: Int)
    /// Not owned here, and no data here.
    case absent

    /// Whether the bucket's data has still to move in or out: a group moves to its next
    /// configuration only once every bucket of this one has finished moving.
    public var isMoving: Bool {
        switch self {
        case .pulling, .leaving: true
        case .serving, .absent: false
        }
    }
}
