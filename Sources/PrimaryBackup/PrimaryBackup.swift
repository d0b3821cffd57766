import ConsensusCore
import KVStore

/// Asynchronous primary–backup replication with Sentinel-style failover, as Redis does it: the
/// available-but-inconsistent (AP) side of the lab's CAP comparison.
///
/// - **Writes** go to the primary, which logs and applies each one and answers at once; it streams
///   them to the backups afterwards (REPLICATE, `replicationLag` later), so an acknowledged write
///   exists on one machine until it is replicated. Backups redirect writes to the primary
///   (`.notLeader(hint:)`), as a read-only Redis replica refuses them and a cluster client follows
///   the redirect.
/// - **Reads** are served by whichever node receives them, from its own state: fast, available on
///   every side of a partition, possibly stale.
/// - **Replication** follows Redis's offsets and replication IDs: backups acknowledge their offset
///   every heartbeat; one that reconnects or misses writes asks for the rest (PSYNC) and gets it from
///   the backlog, or a full resync (FULLRESYNC) when its history is not the primary's or it is too far
///   behind.
/// - **Failover** follows Sentinel: nodes that have not heard the primary for `downAfter` ask for
///   votes in a new epoch; a node votes once per epoch, only if it too has lost the primary. A
///   candidate with a majority promotes the voter with the highest offset (ties: lowest id). A primary
///   that learns of a newer configuration becomes a backup and resynchronises, discarding the writes
///   the new primary never received: the acknowledged writes lost to asynchronous replication.
/// - A node never gives up being primary because it is cut off: a primary on the minority side of a
///   partition keeps accepting writes (available), unless `minReplicasToWrite` backups must have
///   acknowledged recently.
///
/// Roles are reported as `.role(.leader, term: epoch, name: "primary")`, `.follower` "backup" and
/// `.candidate` "candidate"; the term is the configuration epoch (a candidate's: the epoch it asks for).
public struct PrimaryBackup: ReplicationBackend {
    public static let protocolName = "primary-backup"

    /// A write as the primary accepted it: the request and the primary's clock.
    public typealias Entry = StampedRequest
    public typealias Options = PrimaryBackupOptions

    /// The protocol's own roles; reported to the lab as leader, follower and candidate.
    package enum ReplicaRole: String, Sendable {
        case primary, backup, candidate
    }

    let id: NodeID
    let cluster: [NodeID]
    let options: Options
    var random: DeterministicRandom

    package internal(set) var role: ReplicaRole
    package internal(set) var hard: HardState
    package internal(set) var store: KVStore
    /// Redis's replication offset: how many writes of its history this node's data holds.
    package internal(set) var offset: Int
    var backlog: Backlog
    /// Storage index of the write at offset `o` is `o + storageBase` (a full resync stores a snapshot
    /// at a fresh index, so the two drift apart).
    var storageBase: Int

    // Primary
    var peers: [Peer]
    var heartbeatAt: Instant = .zero
    /// Writes acknowledged but not yet released to the backups (with a `replicationLag`).
    var held = HeldWrites()
    /// Writes up to this offset may be sent to backups.
    var releasedOffset: Int
    /// The configuration this node's disk is known to hold: its own acknowledgement came back
    /// (`streamDeparture`).
    var durableConfig: Configuration?

    // Backup
    var lastHeard: Instant = .zero
    var failoverJitter: TimeSpan = .zero
    /// A granted vote holds off this node's own failover attempt until then.
    var failoverNotBefore: Instant = .zero
    /// The epoch and offset of this node's last granted vote (volatile: after a restart it checks
    /// no promotion it did not vote for since), for `checkPromotion`.
    var lastGrant: (epoch: UInt64, offset: Int)?
    var psyncSentAt: Instant?
    /// REPLICATEs that arrived ahead of our offset (a network that reorders).
    var early: EarlySlices

    // Candidate
    var election: Election?

    var started = false
    let firstStart: Bool
    /// The role and term last reported, so that each change is reported once.
    var announced: (role: Role, term: UInt64)?

    /// What the primary knows of a backup's replication stream.
    struct Peer {
        /// The backup continues our history; writes after `next` have not been sent to it yet.
        var streaming = false
        var next = 0
        var lastAck: Instant?
    }

    public init(id: NodeID, cluster: [NodeID], options: Options, recovered: RecoveredState<StampedRequest, HardState>, seed: UInt64) {
        self.id = id
        self.cluster = cluster
        self.options = options
        random = DeterministicRandom(seed: seed)
        firstStart = recovered.hardState == nil
        hard = recovered.hardState ?? HardState(initialPrimary: cluster.min()!)
        // A node that restarts cannot know whether a failover happened while it was down, so it
        // comes back as a backup, even if it was the primary; if nobody leads, a failover picks the
        // most up-to-date node (possibly this one) in a new epoch, which also starts a new history.
        role = firstStart && hard.config.primary == id ? .primary : .backup
        var snapshotOffset = 0
        storageBase = 0
        store = KVStore(sessions: options.sessions)
        if let snapshot = recovered.snapshot {
            do { store = try KVStore(snapshot: snapshot.data, sessions: options.sessions) } catch {
                preconditionFailure("primary-backup \(id): the snapshot stored at index \(snapshot.lastIndex) does not decode: \(error)")
            }
            snapshotOffset = Int(snapshot.lastTerm)
            storageBase = snapshot.lastIndex - snapshotOffset
        }
        offset = snapshotOffset
        backlog = Backlog(capacity: options.backlog, after: offset)
        early = EarlySlices(capacity: options.backlog)
        for write in recovered.entries {
            _ = store.apply(write.request, at: write.stamp)
            backlog.append(write)
            offset += 1
        }
        peers = Array(repeating: Peer(), count: cluster.count)
        releasedOffset = offset
    }

    public var leadership: Leadership? {
        switch role {
        case .primary: Leadership(role: .leader, term: hard.config.epoch, leader: id)
        case .backup: Leadership(role: .follower, term: hard.config.epoch, leader: hard.config.primary)
        case .candidate: Leadership(role: .candidate, term: hard.config.epoch, leader: nil)
        }
    }

    public var nextDeadline: Instant? {
        guard started else { return .zero }
        switch role {
        case .primary: return min(heartbeatAt, held.nextRelease ?? .distantFuture)
        case .backup: return min(heartbeatAt, failoverAt)
        case .candidate: return election.map { $0.windowOpen ? $0.windowEnd : $0.retryAt }
        }
    }

    public mutating func step(_ input: Input<Message>, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        if !started { start(at: now, into: &out) }
        switch input {
        case .tick: tick(at: now, into: &out)
        case .client(let request): serve(request, at: now, into: &out)
        case .receive(let from, let message): receive(message, from: from, at: now, into: &out)
        }
    }

    /// The first step after (re)start: the clock is known from here on.
    mutating func start(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        started = true
        lastHeard = now
        heartbeatAt = now
        failoverJitter = drawJitter()
        // Persisted at once, so that a restart is never mistaken for a first start.
        if firstStart { out.persist(.hardState(hard)) }
        if role == .primary { acknowledgeOwnConfiguration(into: &out) }
        announce(into: &out)
    }

    mutating func tick(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        switch role {
        case .primary:
            if now >= heartbeatAt { heartbeat(at: now, into: &out) }
            if let released = held.release(by: now) {
                releasedOffset = released
                flushAll(into: &out)
            }
        case .backup:
            if now >= heartbeatAt {
                heartbeatAt = now + options.heartbeat
                if hard.config.primary != id { out.send(.ack(position), to: hard.config.primary) }
            }
            if now >= failoverAt { startElection(at: now, into: &out) }
        case .candidate:
            guard let current = election else { return }
            if now >= current.retryAt {
                startElection(at: now, into: &out)
            } else if now >= current.windowEnd {
                election?.windowOpen = false
                decideIfElected(at: now, into: &out)
            }
        }
    }

    mutating func receive(_ message: Message, from peer: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        switch message {
        case .replicate(let replicate): receive(replicate, from: peer, at: now, into: &out)
        case .fullResync(let resync): receive(resync, from: peer, at: now, into: &out)
        case .ack(let position): receiveSync(position, from: peer, resend: false, at: now, into: &out)
        case .psync(let position): receiveSync(position, from: peer, resend: true, at: now, into: &out)
        case .voteRequest(let request): receive(request, from: peer, at: now, into: &out)
        case .vote(let vote): receive(vote, from: peer, at: now, into: &out)
        case .promote(let epoch, let highest): receivePromote(epoch: epoch, highest: highest, at: now, into: &out)
        }
    }

    // MARK: Roles

    var majority: Int { cluster.count / 2 + 1 }

    /// Changes role and reports it, with the epoch it holds in.
    mutating func become(_ newRole: ReplicaRole, into out: inout Effects<PrimaryBackup>) {
        role = newRole
        announce(into: &out)
    }

    mutating func announce(into out: inout Effects<PrimaryBackup>) {
        let reported: Role, term: UInt64
        switch role {
        case .primary: (reported, term) = (.leader, hard.config.epoch)
        case .backup: (reported, term) = (.follower, hard.config.epoch)
        case .candidate: (reported, term) = (.candidate, election?.epoch ?? hard.currentEpoch)
        }
        if let announced, announced.role == reported, announced.term == term { return }
        announced = (reported, term)
        out.emit(.role(reported, term: term, name: role.rawValue))
    }

    /// This node's replication position, as backups report it.
    var position: SyncPosition { SyncPosition(config: hard.config, history: hard.replicationID, offset: offset) }

    mutating func saveHardState(into out: inout Effects<PrimaryBackup>) { out.persist(.hardState(hard)) }
}
