import AtomicCommit
import ConsensusCore
import Foundation
import PrimaryBackup
import Raft
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// How many values a sweep draws: `count` by default, ten times more with `CONLAB_FULL=1`.
func sweep(_ count: Int) -> Int { ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? count * 10 : count }

/// A seeded generator of random wire values: every case of every type, field values biased towards
/// the edges (zero, one, the largest values, empty and multi-byte strings).
struct WireGenerator {
    var random: DeterministicRandom

    init(seed: UInt64) { random = DeterministicRandom(seed: seed) }

    mutating func pick(_ count: Int) -> Int { random.index(below: count) }
    mutating func bool() -> Bool { random.chance(0.5) }

    mutating func u64() -> UInt64 {
        switch pick(5) {
        case 0: 0
        case 1: UInt64(pick(10))
        case 2: UInt64.max - UInt64(pick(3))
        case 3: UInt64(pick(1 << 20))
        default: random.next()
        }
    }

    /// A non-negative `Int` (log indexes, offsets).
    mutating func index() -> Int {
        switch pick(4) {
        case 0: 0
        case 1: pick(100)
        case 2: Int.max - pick(3)
        default: Int(truncatingIfNeeded: random.next() >> 1)
        }
    }

    mutating func int() -> Int { bool() ? index() : -index() - 1 }

    mutating func node() -> NodeID { NodeID(bool() ? 1 + pick(9) : max(1, index())) }
    mutating func client() -> ClientID { ClientID(int()) }

    mutating func optional<T>(_ make: (inout WireGenerator) -> T) -> T? { bool() ? make(&self) : nil }

    mutating func array<T>(max: Int, _ make: (inout WireGenerator) -> T) -> [T] { (0..<pick(max + 1)).map { _ in make(&self) } }

    static let pieces = ["", "k", "key", "v1", "ключ", "ü", "値", "😀", " ", "\u{0}", "a\nb", String(repeating: "x", count: 40)]

    mutating func string() -> String { (0..<pick(4)).map { _ in Self.pieces[pick(Self.pieces.count)] }.joined() }

    mutating func bytes(max: Int = 64) -> [UInt8] { (0..<pick(max + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }

    // MARK: Core

    mutating func command() -> Command {
        switch pick(5) {
        case 0: .get(key: string())
        case 1: .put(key: string(), value: string())
        case 2: .delete(key: string())
        case 3: .append(key: string(), value: string())
        default: .cas(key: string(), expected: optional { $0.string() }, value: string())
        }
    }

    mutating func request() -> ClientRequest {
        ClientRequest(client: client(), sequence: u64(), command: command(), ackedThrough: u64(), established: bool())
    }

    mutating func instant() -> Instant { Instant(microseconds: Int64(bitPattern: u64())) }

    mutating func stamped() -> StampedRequest { StampedRequest(request(), at: instant()) }

    mutating func result() -> CommandResult {
        switch pick(3) {
        case 0: .value(optional { $0.string() })
        case 1: .done
        default: .casMismatch(current: optional { $0.string() })
        }
    }

    mutating func status() -> ReplyStatus {
        switch pick(3) {
        case 0: .ok(result())
        case 1: .notLeader(hint: optional { $0.node() })
        default: .rejected(RejectReason.wireCases[pick(RejectReason.wireCases.count)])
        }
    }

    mutating func reply() -> ClientReply { ClientReply(client: client(), sequence: u64(), status: status()) }

    mutating func snapshot() -> Snapshot { Snapshot(lastIndex: index(), lastTerm: u64(), data: bytes()) }

    mutating func snapshotChunk() -> SnapshotChunk {
        SnapshotChunk(lastIndex: index(), lastTerm: u64(), offset: index(), data: bytes(), done: bool())
    }

    mutating func event() -> ObservableEvent {
        switch pick(7) {
        case 0: .role([Role.leader, .follower, .candidate][pick(3)], term: u64(), name: string())
        case 1: .committed(index())
        case 2: .coordinating(transaction: u64())
        case 3: .decided(transaction: u64(), commit: bool())
        case 4: .violation(SafetyViolation(SafetyRule.allCases[pick(SafetyRule.allCases.count)], string()))
        case 5: .prepared(transaction: u64(), key: string())
        default: .note(kind: string(), detail: string())
        }
    }

    mutating func frame() -> WireFrame {
        let names = ["raft", "zab", "2pc", "3pc", "primary-backup", "unreplicated", "x", String(repeating: "p", count: 32)]
        return WireFrame(protocolName: names[pick(names.count)], content: WireFrame.Content.allCases[pick(WireFrame.Content.allCases.count)],
                         payload: bytes())
    }

    // MARK: Raft

    mutating func raftEntry() -> RaftEntry { RaftEntry(term: u64(), stamp: instant(), request: optional { $0.request() }) }

    mutating func raft() -> RaftMessage {
        switch pick(8) {
        case 0: .requestVote(VoteRequest(term: u64(), lastLogIndex: index(), lastLogTerm: u64(), preVote: bool()))
        case 1: .voteReply(VoteReply(term: u64(), granted: bool(), preVote: bool()))
        case 2: .appendEntries(AppendEntries(term: u64(), prevLogIndex: index(), prevLogTerm: u64(), entries: array(max: 5) { $0.raftEntry() },
                                             leaderCommit: index(), round: u64()))
        case 3: .appendReply(AppendReply(term: u64(), success: bool(), index: index(), hintIndex: index(), hintTerm: u64(), round: u64()))
        case 4: .heartbeat(Heartbeat(term: u64(), commit: index(), round: u64()))
        case 5: .heartbeatReply(HeartbeatReply(term: u64(), round: u64()))
        case 6: .installSnapshot(InstallSnapshot(term: u64(), chunk: snapshotChunk(), round: u64()))
        default:
            .snapshotReply(SnapshotReply(term: u64(), lastIndex: index(), bytesStored: index(), matchIndex: optional { $0.index() }, round: u64()))
        }
    }

    // MARK: ZAB

    mutating func zxid() -> Zxid { Zxid(rawValue: u64()) }
    mutating func transaction() -> ZabTransaction { ZabTransaction(zxid: zxid(), stamp: instant(), request: request()) }

    mutating func history() -> HistorySummary {
        HistorySummary(lastZxid: zxid(), snapshotZxid: zxid(), tails: array(max: 4) { HistorySummary.EpochTail(epoch: $0.u64(), counter: $0.u64()) })
    }

    mutating func zab() -> ZabMessage {
        switch pick(17) {
        case 0:
            .notification(Notification(vote: Vote(leader: node(), zxid: zxid(), epoch: u64()), round: u64(),
                                       state: [ServerState.looking, .following, .leading][pick(3)]))
        case 1: .followerInfo(connection: u64(), acceptedEpoch: u64(), lastZxid: zxid())
        case 2: .leaderInfo(epoch: u64())
        case 3: .ackEpoch(connection: u64(), epoch: u64(), currentEpoch: optional { $0.u64() }, history: history())
        case 4:
            .sync(SyncPayload(connection: u64(), epoch: u64(), mode: SyncMode.allCases[pick(SyncMode.allCases.count)],
                              truncateTo: optional { $0.zxid() }, snapshot: optional { $0.snapshotChunk() }, firstIndex: index(),
                              proposals: array(max: 4) { $0.transaction() }))
        case 5: .newLeader(connection: u64(), epoch: u64(), lastZxid: zxid())
        case 6: .ackNewLeader(connection: u64(), epoch: u64(), lastZxid: zxid())
        case 7: .upToDate(epoch: u64(), committed: zxid())
        case 8: .proposal(epoch: u64(), previous: zxid(), transactions: array(max: 4) { $0.transaction() })
        case 9: .ack(epoch: u64(), zxid: zxid(), gap: bool())
        case 10: .commit(epoch: u64(), zxid: zxid())
        case 11: .ping(epoch: u64(), round: u64(), committed: zxid())
        case 12: .pingReply(epoch: u64(), round: u64(), lastZxid: zxid(), upToDate: bool())
        case 13: .request(request())
        case 14: .syncRequest(epoch: u64(), client: client(), sequence: u64())
        case 15: .snapAck(connection: u64(), epoch: u64(), snapshotIndex: index(), bytesStored: index())
        default: .syncReply(epoch: u64(), client: client(), sequence: u64(), zxid: zxid())
        }
    }

    // MARK: Atomic commit

    mutating func transactionID() -> TransactionID {
        TransactionID(coordinator: NodeID(1 + pick((1 << 16) - 1)), counter: bool() ? UInt64(pick(100)) : u64() >> 16)
    }

    mutating func commit() -> CommitMessage {
        switch pick(6) {
        case 0: .voteRequest(transactionID(), request())
        case 1: .vote(transactionID(), yes: bool())
        case 2: .decision(transactionID(), commit: bool())
        case 3: .ack(transactionID())
        case 4: .stateRequest(transactionID())
        default: .stateReport(transactionID(), [TransactionState.voted, .preCommitted, .committed, .aborted][pick(4)])
        }
    }

    mutating func twoPhase() -> TwoPhaseCommit.Message { TwoPhaseCommit.Message(commit()) }

    mutating func threePhase() -> ThreePhaseCommit.Message {
        switch pick(4) {
        case 0: .preCommit(transactionID())
        case 1: .preCommitReply(transactionID(), ok: bool())
        default: .common(commit())
        }
    }

    // MARK: Primary-backup

    mutating func configuration() -> PrimaryBackup.Configuration { PrimaryBackup.Configuration(epoch: u64(), primary: node()) }

    mutating func position() -> PrimaryBackup.SyncPosition {
        PrimaryBackup.SyncPosition(config: configuration(), history: optional { $0.configuration() }, offset: index())
    }

    mutating func primaryBackup() -> PrimaryBackup.Message {
        switch pick(7) {
        case 0:
            .replicate(PrimaryBackup.Replicate(config: configuration(), previousID: optional { $0.configuration() }, previousEnd: index(),
                                               prevOffset: index(), writes: array(max: 4) { $0.stamped() }))
        case 1: .ack(position())
        case 2: .psync(position())
        case 3:
            .fullResync(PrimaryBackup.FullResync(config: configuration(), previousID: optional { $0.configuration() }, previousEnd: index(),
                                                 offset: index(), data: bytes()))
        case 4: .voteRequest(PrimaryBackup.VoteRequest(epoch: u64(), config: configuration()))
        case 5: .vote(PrimaryBackup.Vote(epoch: u64(), granted: bool(), config: configuration(), offset: index()))
        default: .promote(epoch: u64(), highest: index())
        }
    }

    // MARK: Unreplicated

    mutating func unreplicated() -> Unreplicated.Message { bool() ? .forward(request()) : .answer(reply()) }
}
