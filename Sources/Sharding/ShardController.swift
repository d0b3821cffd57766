import ConsensusCore
import KVStore

/// Brings every server group to the latest configuration, one version at a time, moving the
/// buckets each version reassigns: what 6.824's shardkv servers do in their background loops, here
/// as one controller (as `redis-cli --cluster reshard` drives Redis Cluster). A pure state machine
/// like `MetaClerk`: `request` says what to send to which group, `receive` takes the answer.
///
/// Per version n, in order: every group adopts n (`ShardControl.adopt`); then each bucket that n
/// gives to a group other than its owner in n − 1 is exported from the old owner (its data frozen
/// since the old owner adopted n), installed at the new one, and released at the old one. Every
/// step is idempotent at the group, so a timed-out step is simply sent again, and a controller
/// that restarts from the beginning (or a second one) does no harm: a group answers `done` to a
/// version it has passed, and an export of a released bucket answers that the new owner has it.
public struct ShardController: Sendable {
    /// One step: a control command for one group.
    public struct Step: Equatable, Sendable {
        public var group: GroupID
        public var control: ShardControl
    }

    private enum Task: Equatable {
        case adopt(ShardConfiguration, GroupID)
        case move(Bucket, number: Int, from: GroupID, to: GroupID)
        /// The move's last step, once the new owner has installed the bucket.
        case release(Bucket, number: Int, at: GroupID)
    }

    private var tasks: [Task] = []
    /// The current move's handoff, once exported.
    private var handoff: BucketHandoff?
    private let sessions: SessionOptions

    /// `versions`: the chain from version 1 up (version 0 owns nothing). Every group that appears
    /// in some version adopts every version, so that each group's configurations follow one chain.
    public init(versions: [ShardConfiguration], sessions: SessionOptions = SessionOptions()) {
        self.sessions = sessions
        let groups = Set(versions.flatMap(\.groups.keys)).sorted()
        var previous = versions.first.map { ShardConfiguration.initial(buckets: $0.owners.count) }
        for version in versions {
            tasks += groups.map { .adopt(version, $0) }
            for (index, owner) in version.owners.enumerated() {
                guard let owner, let before = previous?.owners[index], before != owner else { continue }
                tasks.append(.move(Bucket(index), number: version.number, from: before, to: owner))
            }
            previous = version
        }
    }

    public var isDone: Bool { tasks.isEmpty }

    /// What to send now; nil once every group has every version and every bucket has moved.
    public var request: Step? {
        switch tasks.first {
        case nil: nil
        case .adopt(let version, let group)?: Step(group: group, control: .adopt(version))
        case .move(let bucket, let number, let from, let to)?:
            if let handoff { Step(group: to, control: .install(bucket, number: number, handoff)) } else { Step(group: from, control: .export(bucket, number: number)) }
        case .release(let bucket, let number, let group)?: Step(group: group, control: .release(bucket, number: number))
        }
    }

    /// Takes the group's answer to `request`. Anything but a definite answer — a timeout, a
    /// refusal, "not yet" — leaves the step to be sent again.
    public mutating func receive(_ outcome: Outcome) {
        guard let task = tasks.first, case .ok(let result) = outcome else { return }
        switch (task, result) {
        case (.adopt, .done), (.release, .done):
            tasks.removeFirst()
        case (.move, .value(let text?)) where handoff == nil && !ShardControl.isNotYet(text):
            handoff = BucketHandoff(text: text, sessions: sessions)
        case (.move, .value(nil)) where handoff == nil:
            // Released already: the new owner installed it before (an earlier controller).
            tasks.removeFirst()
        case (.move(let bucket, let number, let from, _), .done) where handoff != nil:
            handoff = nil
            tasks[0] = .release(bucket, number: number, at: from)
        default:
            return
        }
    }
}
