import ConsensusCore

/// A follower's history as it reports it to a new leader with ACKEPOCH: its last zxid, the zxid its
/// snapshot covers, and, for each epoch in its log after the snapshot, the last counter it holds.
///
/// That is enough to decide which of the leader's transactions the follower holds. Within one
/// epoch every node holds a prefix of that epoch's proposals (only the epoch's leader numbers them,
/// in order, and they travel in order), and a node holding zxid z agrees with every other history
/// holding z on everything before z. A snapshot holds only committed transactions, which every
/// later leader has.
public struct HistorySummary: Hashable, Sendable {
    public struct EpochTail: Hashable, Sendable {
        public var epoch: Epoch
        public var counter: UInt64

        public init(epoch: Epoch, counter: UInt64) {
            self.epoch = epoch
            self.counter = counter
        }
    }

    public var lastZxid: Zxid
    public var snapshotZxid: Zxid
    public var tails: [EpochTail]

    public init(lastZxid: Zxid, snapshotZxid: Zxid = .zero, tails: [EpochTail]) {
        self.lastZxid = lastZxid
        self.snapshotZxid = snapshotZxid
        self.tails = tails
    }

    /// The summary of a history holding exactly `zxids` (sorted), with no snapshot.
    package init(holding zxids: [Zxid]) {
        var tails: [EpochTail] = []
        for zxid in zxids {
            if let last = tails.last, last.epoch == zxid.epoch { tails[tails.count - 1].counter = zxid.counter } else {
                tails.append(EpochTail(epoch: zxid.epoch, counter: zxid.counter))
            }
        }
        self.init(lastZxid: zxids.last ?? .zero, tails: tails)
    }

    /// Whether the history holds the transaction `zxid` of the leader's history.
    package func holds(_ zxid: Zxid) -> Bool {
        if zxid <= snapshotZxid { return true }
        var counter: UInt64 = zxid.epoch == snapshotZxid.epoch ? snapshotZxid.counter : 0
        if let tail = tails.first(where: { $0.epoch == zxid.epoch }) { counter = max(counter, tail.counter) }
        return zxid.counter <= counter
    }
}

/// Encoded as lastZxid u64, snapshotZxid u64, then the tails (u32 count, then epoch u64 and
/// counter u64 each).
extension HistorySummary: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(lastZxid.rawValue)
        writer.write(snapshotZxid.rawValue)
        writer.write(UInt32(tails.count))
        for tail in tails {
            writer.write(tail.epoch)
            writer.write(tail.counter)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        lastZxid = Zxid(rawValue: try reader.readUInt64())
        snapshotZxid = Zxid(rawValue: try reader.readUInt64())
        let count = try reader.readCount(minimumElementSize: 16)
        tails = []
        tails.reserveCapacity(count)
        for _ in 0..<count { tails.append(EpochTail(epoch: try reader.readUInt64(), counter: try reader.readUInt64())) }
    }

    /// The encoded length.
    public var byteCount: Int { 20 + tails.count * 16 }
}

/// How a leader brings a follower's history in line with its own (the seeds' §3.5; ZooKeeper's
/// `LearnerHandler.syncFollower`).
public enum SyncMode: String, Hashable, Sendable, CaseIterable {
    /// The follower's history is a prefix of the leader's: send the proposals it misses.
    case diff = "DIFF"
    /// The follower holds proposals the leader never had, and nothing is missing: roll them back.
    case trunc = "TRUNC"
    /// Roll back the proposals the leader never had, then send the ones it misses.
    case truncDiff = "TRUNC+DIFF"
    /// The follower is older than the leader's committed-log window: send the whole state.
    case snap = "SNAP"
}

/// The sync plan for one follower.
package struct SyncDecision: Hashable, Sendable {
    package var mode: SyncMode
    /// Where the follower's history stops agreeing with the leader's: TRUNC drops everything after
    /// it, DIFF sends everything after it. `nil` for SNAP.
    package var commonZxid: Zxid?

    /// Decides the sync mode as ZooKeeper does, from the follower's last zxid (`peerLastZxid`)
    /// against the leader's committed-log window (`minCommittedLog … maxCommittedLog`, here the
    /// transactions the leader holds in memory after `windowBase`, the last of which is its last zxid):
    ///
    /// - same last zxid: an empty DIFF;
    /// - no window, or the follower older than the window: SNAP;
    /// - otherwise find the last transaction of the window (or its base) the follower holds, `common`:
    ///   the follower's last zxid itself → DIFF of what follows; the leader's last zxid → TRUNC to
    ///   it; anything else → TRUNC to it, then DIFF. If the follower does not even hold the base,
    ///   it diverged before the window: SNAP.
    ///
    /// ZooKeeper finds `common` as the largest zxid of its log not above `peerLastZxid` and assumes
    /// the follower holds it; here the follower's `HistorySummary` says whether it does, so a
    /// follower whose proposals of an old epoch were never adopted (and that never saw some of the
    /// leader's) is truncated far enough. In every case the seeds describe, both agree.
    package static func decide(follower: HistorySummary, window: [Zxid], windowBase: Zxid) -> SyncDecision {
        let leaderLast = window.last ?? windowBase
        if follower.lastZxid == leaderLast { return SyncDecision(mode: .diff, commonZxid: leaderLast) }
        guard let minCommitted = window.first, follower.lastZxid >= minCommitted else { return SyncDecision(mode: .snap, commonZxid: nil) }
        guard windowBase == .zero || follower.holds(windowBase) else { return SyncDecision(mode: .snap, commonZxid: nil) }
        var common = windowBase
        for zxid in window {
            guard follower.holds(zxid) else { break }
            common = zxid
        }
        if common == follower.lastZxid { return SyncDecision(mode: .diff, commonZxid: common) }
        if common == leaderLast { return SyncDecision(mode: .trunc, commonZxid: common) }
        return SyncDecision(mode: .truncDiff, commonZxid: common)
    }
}
