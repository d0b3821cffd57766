/// One piece of a snapshot in transit: Figure 13's InstallSnapshot arguments other than the leader's
/// term and id, which the protocol's message carries.
public struct SnapshotChunk: Hashable, Sendable {
    /// The snapshot's last included index.
    public var lastIndex: LogIndex
    /// The term (Raft) or zxid (ZAB) of the entry at `lastIndex`.
    public var lastTerm: UInt64
    /// Where `data` starts in the snapshot's encoded state machine.
    public var offset: Int
    public var data: [UInt8]
    /// Whether this is the last chunk.
    public var done: Bool

    public init(lastIndex: LogIndex, lastTerm: UInt64, offset: Int, data: [UInt8], done: Bool) {
        self.lastIndex = lastIndex
        self.lastTerm = lastTerm
        self.offset = offset
        self.data = data
        self.done = done
    }
}

/// Encoded as lastIndex i64 (≥ 0), lastTerm u64, offset i64 (≥ 0), data (u32 length + bytes), done bool.
extension SnapshotChunk: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(lastIndex)
        writer.write(lastTerm)
        writer.write(offset)
        writer.write(data)
        writer.write(done)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(lastIndex: try reader.readNonNegativeInt("snapshot index"), lastTerm: try reader.readUInt64(),
                  offset: try reader.readNonNegativeInt("chunk offset"), data: try reader.readBytes(), done: try reader.readBool())
    }

    public var byteCount: Int { 29 + data.count }
}

/// The sender's side of one snapshot's transfer to one receiver, in chunks as the Raft paper's
/// InstallSnapshot RPC sends it (Ongaro & Ousterhout 2014, §7 and Figure 13): a state machine image
/// may be far larger than one message should be, so the sender splits its encoded bytes
/// (`Snapshot.data`) into chunks of at most `chunkSize` bytes and the receiver puts them together
/// in offset order, in memory, until the last one arrives (`SnapshotAssembly`).
///
/// The machinery lives here once because two backends use it: Raft's InstallSnapshot and ZAB's SNAP
/// synchronisation. Each protocol's own message carries a `SnapshotChunk` beside its term or epoch,
/// and its own reply says how many bytes the receiver holds.
///
/// Chunks travel one at a time (Figure 13's receiver "replies and waits for more data chunks"): the
/// sender sends the next chunk when a reply says the receiver moved on, and the same chunk again when
/// its own timer says a message may be lost. A lost, duplicated or reordered chunk never corrupts the
/// receiver: a chunk is written only at the exact offset the receiver has reached, of the snapshot it
/// is assembling, so the receiver ends with exactly the sender's image or with none.
public struct SnapshotTransfer: Hashable, Sendable {
    public let snapshot: Snapshot
    /// Most bytes of `snapshot.data` one chunk carries (at least 1).
    public let chunkSize: Int
    /// How many bytes of the image the receiver holds in order, as far as the sender knows: the
    /// outstanding chunk starts here.
    public private(set) var offset = 0

    public init(_ snapshot: Snapshot, chunkSize: Int) {
        precondition(chunkSize > 0, "a snapshot chunk holds at least one byte")
        self.snapshot = snapshot
        self.chunkSize = chunkSize
    }

    /// The chunk that starts at `offset`: the one to send now, or to send again.
    public var chunk: SnapshotChunk {
        let data = snapshot.data
        let length = min(chunkSize, data.count - offset)
        let piece = length == data.count ? data : Array(data[offset..<offset + length])
        return SnapshotChunk(lastIndex: snapshot.lastIndex, lastTerm: snapshot.lastTerm, offset: offset, data: piece,
                             done: offset + length == data.count)
    }

    /// How many chunks the whole snapshot takes: ⌈n / chunkSize⌉ for `n` bytes, and one for none.
    public var chunkCount: Int {
        let count = snapshot.data.count
        return max(1, count / chunkSize + (count % chunkSize == 0 ? 0 : 1))
    }

    /// The receiver says it holds `bytesStored` bytes of this snapshot. Returns whether that moved
    /// the transfer — the outstanding chunk arrived, or the receiver lost what it had (it crashed,
    /// or it started over on a stray first chunk) — in which case the caller sends `chunk`. A report
    /// of where the transfer already stands (an answer to a duplicate) sends nothing, so one chunk at
    /// a time stays outstanding however often messages are duplicated.
    public mutating func receiverHolds(_ bytesStored: Int) -> Bool {
        let position = min(max(bytesStored, 0), snapshot.data.count)
        guard position != offset else { return false }
        offset = position
        return true
    }
}

/// The receiver's side: the snapshot being put together (Figure 13, receiver steps 2–5), held in
/// memory only. A crash loses it, which is fine: the sender learns from the next reply that the
/// receiver holds nothing, and starts again.
public struct SnapshotAssembly: Sendable {
    /// What the receiver does after a chunk.
    public enum Outcome: Hashable, Sendable {
        /// Reply with how many bytes of that snapshot are held in order (where the next chunk must
        /// start; 0 for a chunk of a snapshot not being assembled) and wait for more (step 4).
        case incomplete(bytesStored: Int)
        /// The last chunk arrived in order: here is the whole snapshot (step 5; the partial one is gone).
        case complete(Snapshot)
    }

    private var partial: Snapshot?

    public init() {}

    /// Adds `chunk` if it continues the snapshot under way exactly where it stops; a first chunk
    /// (offset 0) starts a new one (step 2). Anything else — a gap left by a lost chunk, a duplicate,
    /// a chunk of another snapshot — changes nothing, and the reply tells the sender where to resume.
    ///
    /// Snapshots are identified by last index and term: every node's snapshot at an index holds the
    /// same committed prefix, applied by the same deterministic state machine, whose encoding is
    /// canonical (`KVStore.snapshot()`), so chunks from two senders of one snapshot fit together.
    public mutating func add(_ chunk: SnapshotChunk) -> Outcome {
        if chunk.offset == 0 {
            if chunk.done { return .complete(Snapshot(lastIndex: chunk.lastIndex, lastTerm: chunk.lastTerm, data: chunk.data)) }
            partial = Snapshot(lastIndex: chunk.lastIndex, lastTerm: chunk.lastTerm, data: [])
        }
        guard var snapshot = partial, snapshot.lastIndex == chunk.lastIndex, snapshot.lastTerm == chunk.lastTerm else {
            return .incomplete(bytesStored: 0)
        }
        guard chunk.offset == snapshot.data.count else { return .incomplete(bytesStored: snapshot.data.count) }
        partial = nil  // the buffer is appended to in place, not copied
        snapshot.data.append(contentsOf: chunk.data)  // step 3
        if chunk.done { return .complete(snapshot) }
        partial = snapshot
        return .incomplete(bytesStored: snapshot.data.count)
    }
}
