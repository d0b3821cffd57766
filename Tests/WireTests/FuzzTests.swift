import AtomicCommit
import ConsensusCore
import PrimaryBackup
import Raft
import Testing
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// Feeds `T`'s decoder damaged input derived from `encodings` (valid ones) and random bytes.
///
/// A decoder must throw or return a value, never trap (a trap ends the test process), and never
/// allocate more than its input justifies. Stronger checks where the answer is known: every proper
/// prefix and every encoding with a byte appended is an error; and whatever decodes is canonical —
/// it re-encodes to exactly the input, and its `byteCount` is the input's length.
func fuzz<T: WireCodable>(_: T.Type, encodings: [[UInt8]], seed: UInt64) -> Failures {
    var random = DeterministicRandom(seed: seed)
    var failures = Failures()

    func attempt(_ input: [UInt8], mustFail: Bool, _ what: String) {
        guard let value = try? T(decoding: input) else { return }
        if mustFail { failures.append("\(what) decoded: \(input.prefix(24))… → \(value)"); return }
        let again = value.encodedBytes()
        if again != input || value.byteCount != input.count {
            failures.append("\(what): not canonical (\(input.count) bytes in, \(again.count) out, byteCount \(value.byteCount)): \(value)")
        }
    }

    let patches32: [UInt32] = [.max, 0x8000_0000, 0x7FFF_FFFF, 0x0100_0000, 0xFFFF]
    let patches64: [UInt64] = [.max, 1 << 63, UInt64(Int64.max)]
    for bytes in encodings {
        attempt(bytes, mustFail: false, "valid encoding")
        for length in 0..<bytes.count { attempt(Array(bytes[..<length]), mustFail: true, "truncation to \(length) bytes") }
        attempt(bytes + [0], mustFail: true, "encoding with a trailing byte")
        attempt(bytes + bytes, mustFail: true, "encoding twice")
        // Huge length prefixes and counts patched in wherever one might be.
        for offset in 0..<max(bytes.count - 3, 0) {
            for patch in patches32 {
                var patched = bytes
                for i in 0..<4 { patched[offset + i] = UInt8(truncatingIfNeeded: patch >> (8 * UInt32(i))) }
                attempt(patched, mustFail: false, "length \(patch) at \(offset)")
            }
        }
        for offset in 0..<max(bytes.count - 7, 0) {
            for patch in patches64 {
                var patched = bytes
                for i in 0..<8 { patched[offset + i] = UInt8(truncatingIfNeeded: patch >> (8 * UInt64(i))) }
                attempt(patched, mustFail: false, "integer \(patch) at \(offset)")
            }
        }
        // Random bit flips, one to four at a time.
        guard !bytes.isEmpty else { continue }
        for _ in 0..<40 {
            var flipped = bytes
            for _ in 0...random.index(below: 4) { flipped[random.index(below: flipped.count)] ^= 1 << UInt8(random.index(below: 8)) }
            attempt(flipped, mustFail: false, "bit flips")
        }
        // Random tails behind a valid tag.
        for _ in 0..<10 {
            let tail = (0..<random.index(below: 2 * bytes.count + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            attempt([bytes[0]] + tail, mustFail: false, "random tail")
        }
    }
    // Random bytes of every length up to 64.
    for _ in 0..<sweep(300) {
        let input = (0..<random.index(below: 65)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        attempt(input, mustFail: false, "random bytes")
    }
    return failures
}

func encodings<T: WireCodable>(seed: UInt64, count: Int = sweep(25), _ make: (inout WireGenerator) -> T) -> [[UInt8]] {
    var generator = WireGenerator(seed: seed)
    return (0..<count).map { _ in make(&generator).encodedBytes() }
}

/// Truncated, oversized, patched, bit-flipped and random input for every decoder a runtime uses:
/// an error every time, never a trap or an unbounded allocation.
@Suite struct WireFuzzTests {
    func expectNone(_ failures: Failures, sourceLocation: SourceLocation = #_sourceLocation) { failures.expectNone(sourceLocation: sourceLocation) }

    @Test func raft() { expectNone(fuzz(RaftMessage.self, encodings: encodings(seed: 11) { $0.raft() }, seed: 11)) }
    @Test func zab() { expectNone(fuzz(ZabMessage.self, encodings: encodings(seed: 12) { $0.zab() }, seed: 12)) }
    @Test func twoPhaseCommit() { expectNone(fuzz(TwoPhaseCommit.Message.self, encodings: encodings(seed: 13) { $0.twoPhase() }, seed: 13)) }
    @Test func threePhaseCommit() { expectNone(fuzz(ThreePhaseCommit.Message.self, encodings: encodings(seed: 14) { $0.threePhase() }, seed: 14)) }
    @Test func primaryBackup() { expectNone(fuzz(PrimaryBackup.Message.self, encodings: encodings(seed: 15) { $0.primaryBackup() }, seed: 15)) }
    @Test func unreplicated() { expectNone(fuzz(Unreplicated.Message.self, encodings: encodings(seed: 16) { $0.unreplicated() }, seed: 16)) }
    @Test func clientRequest() { expectNone(fuzz(ClientRequest.self, encodings: encodings(seed: 17) { $0.request() }, seed: 17)) }
    @Test func stampedRequest() { expectNone(fuzz(StampedRequest.self, encodings: encodings(seed: 24) { $0.stamped() }, seed: 24)) }
    @Test func clientReply() { expectNone(fuzz(ClientReply.self, encodings: encodings(seed: 18) { $0.reply() }, seed: 18)) }
    @Test func snapshot() { expectNone(fuzz(Snapshot.self, encodings: encodings(seed: 19) { $0.snapshot() }, seed: 19)) }
    @Test func snapshotChunk() { expectNone(fuzz(SnapshotChunk.self, encodings: encodings(seed: 24) { $0.snapshotChunk() }, seed: 24)) }
    @Test func observableEvent() { expectNone(fuzz(ObservableEvent.self, encodings: encodings(seed: 20) { $0.event() }, seed: 20)) }
    @Test func frame() { expectNone(fuzz(WireFrame.self, encodings: encodings(seed: 21) { $0.frame() }, seed: 21)) }

    @Test func framedMessages() {
        var generator = WireGenerator(seed: 22)
        let frames = (0..<sweep(25)).map { _ in WireFrame(Zab.self, message: generator.zab()).encodedBytes() }
        var failures = fuzz(WireFrame.self, encodings: frames, seed: 22)
        for bytes in frames {
            for length in 0..<bytes.count where (try? WireFrame(decoding: Array(bytes[..<length])).message(of: Zab.self)) != nil {
                failures.append("truncated frame decoded")
            }
        }
        expectNone(failures)
    }

    /// A count or length far beyond the input is refused before anything is allocated for it.
    @Test func hugeCountsAreRefusedBeforeAllocating() {
        var huge = RaftMessage.appendEntries(AppendEntries(term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 0)).encodedBytes()
        huge.replaceSubrange(41..<45, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: BinaryDecodingError.truncated(offset: 41)) { try RaftMessage(decoding: huge) }
        var proposal = ZabMessage.proposal(epoch: 1, previous: .zero, transactions: []).encodedBytes()
        proposal.replaceSubrange(17..<21, with: [0x00, 0x00, 0x00, 0x01])
        #expect(throws: BinaryDecodingError.truncated(offset: 17)) { try ZabMessage(decoding: proposal) }
        var snapshot = Snapshot(lastIndex: 1, lastTerm: 1, data: []).encodedBytes()
        snapshot.replaceSubrange(16..<20, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: BinaryDecodingError.truncated(offset: 20)) { try Snapshot(decoding: snapshot) }
    }

    @Test func invalidTagsNodeIDsAndIndexesAreErrors() {
        #expect(throws: BinaryDecodingError.invalid("Raft message tag", offset: 0)) { try RaftMessage(decoding: [8]) }
        #expect(throws: BinaryDecodingError.invalid("ZAB message tag", offset: 0)) { try ZabMessage(decoding: [17]) }
        #expect(throws: BinaryDecodingError.invalid("3PC message tag", offset: 0)) { try ThreePhaseCommit.Message(decoding: [8]) }
        #expect(throws: BinaryDecodingError.invalid("commit message tag", offset: 0)) { try TwoPhaseCommit.Message(decoding: [6]) }
        var notification = ZabMessage.notification(Notification(vote: Vote(leader: NodeID(1), zxid: .zero, epoch: 0), round: 1, state: .looking)).encodedBytes()
        notification.replaceSubrange(1..<9, with: [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: BinaryDecodingError.invalid("node id (0)", offset: 1)) { try ZabMessage(decoding: notification) }
        var heartbeat = RaftMessage.heartbeat(Heartbeat(term: 1, commit: 1, round: 1)).encodedBytes()
        heartbeat.replaceSubrange(9..<17, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: BinaryDecodingError.invalid("commit index (-1)", offset: 9)) { try RaftMessage(decoding: heartbeat) }
        var stateReport = CommitMessage.stateReport(TransactionID(coordinator: NodeID(1), counter: 1), .voted).encodedBytes()
        stateReport[17] = 4
        #expect(throws: BinaryDecodingError.invalid("transaction state", offset: 17)) { try CommitMessage(decoding: stateReport) }
    }
}
