import AtomicCommit
import ConsensusCore
import PrimaryBackup
import Raft
import Testing
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// Failed checks of a sweep: how many, and the first few (one `#expect` per sweep, not thousands).
struct Failures {
    private(set) var count = 0
    private(set) var examples: [String] = []

    mutating func append(_ failure: String) {
        count += 1
        if examples.count < 3 { examples.append(failure) }
    }

    func expectNone(sourceLocation: SourceLocation = #_sourceLocation) {
        let count = count
        #expect(count == 0, "first failures: \(examples)", sourceLocation: sourceLocation)
    }
}

/// Encodes `value`, checks that `byteCount` is the encoded length and that decoding gives the value
/// back; returns the encoding. Failures are collected in `failures` (one `#expect` per sweep).
@discardableResult
func roundTrip<T: WireCodable & Equatable>(_ value: T, _ failures: inout Failures) -> [UInt8] {
    let bytes = value.encodedBytes()
    if value.byteCount != bytes.count { failures.append("byteCount \(value.byteCount) ≠ encoded length \(bytes.count): \(value)") }
    do {
        let decoded = try T(decoding: bytes)
        if decoded != value { failures.append("decoded \(decoded) ≠ \(value)") }
    } catch {
        failures.append("\(error) decoding \(value)")
    }
    return bytes
}

/// Round-trips `count` generated messages of `Backend`, bare and inside a frame, and checks that the
/// generator produced every kind of message the protocol has.
func checkMessages<Backend: ReplicationBackend>(_: Backend.Type, seed: UInt64, count: Int, _ make: (inout WireGenerator) -> Backend.Message)
    where Backend.Message: Equatable {
    var generator = WireGenerator(seed: seed)
    var failures = Failures()
    var kinds: Set<Backend.Message.Kind> = []
    for _ in 0..<count {
        let message = make(&generator)
        kinds.insert(message.kind)
        let bytes = roundTrip(message, &failures)
        let frame = WireFrame(Backend.self, message: message)
        #expect(frame.payload == bytes)
        let framed = roundTrip(frame, &failures)
        do {
            let decoded = try WireFrame(decoding: framed).message(of: Backend.self)
            if decoded != message { failures.append("framed \(decoded) ≠ \(message)") }
        } catch {
            failures.append("\(error) decoding the frame of \(message)")
        }
    }
    failures.expectNone()
    let missing = Backend.Message.Kind.allCases.filter { !kinds.contains($0) }
    #expect(missing.isEmpty, "kinds never generated: \(missing.map(\.rawValue))")
}

/// Property tests: every message kind of every backend, and every value a runtime ships besides,
/// survives encode → decode unchanged, and `byteCount` is exactly the encoded length.
@Suite struct WireRoundTripTests {
    static let count = sweep(400)

    @Test func raftMessages() { checkMessages(Raft.self, seed: 1, count: Self.count) { $0.raft() } }
    @Test func zabMessages() { checkMessages(Zab.self, seed: 2, count: Self.count) { $0.zab() } }
    @Test func twoPhaseCommitMessages() { checkMessages(TwoPhaseCommit.self, seed: 3, count: Self.count) { $0.twoPhase() } }
    @Test func threePhaseCommitMessages() { checkMessages(ThreePhaseCommit.self, seed: 4, count: Self.count) { $0.threePhase() } }
    @Test func primaryBackupMessages() { checkMessages(PrimaryBackup.self, seed: 5, count: Self.count) { $0.primaryBackup() } }
    @Test func unreplicatedMessages() { checkMessages(Unreplicated.self, seed: 6, count: Self.count) { $0.unreplicated() } }

    @Test func clientRequestsRepliesSnapshotsChunksEventsAndFrames() {
        var generator = WireGenerator(seed: 7)
        var failures = Failures()
        var commands: Set<String> = [], statuses: Set<String> = [], reasons: Set<RejectReason> = [], events: Set<String> = []
        var watermarks = 0, established = 0
        for _ in 0..<Self.count {
            let request = generator.request()
            commands.insert(request.command.name)
            if request.ackedThrough > 0 { watermarks += 1 }
            if request.established { established += 1 }
            roundTrip(request, &failures)
            roundTrip(generator.stamped(), &failures)
            let reply = generator.reply()
            statuses.insert(String("\(reply.status)".prefix { $0 != "(" }))
            if case .rejected(let reason) = reply.status { reasons.insert(reason) }
            roundTrip(reply, &failures)
            roundTrip(generator.snapshot(), &failures)
            roundTrip(generator.snapshotChunk(), &failures)
            let event = generator.event()
            events.insert(String("\(event)".prefix { $0 != "(" }))
            roundTrip(event, &failures)
            roundTrip(generator.frame(), &failures)
            roundTrip(generator.command(), &failures)
            roundTrip(generator.result(), &failures)
        }
        failures.expectNone()
        #expect(commands == ["get", "put", "delete", "append", "cas"])
        #expect(statuses == ["ok", "notLeader", "rejected"])
        #expect(reasons == Set(RejectReason.wireCases), "every reject reason, sessionExpired included")
        #expect(watermarks > 0 && established > 0 && established < Self.count, "requests carry watermarks and both flag values")
        #expect(events == ["role", "committed", "coordinating", "decided", "prepared", "note", "violation"])
    }

    /// A client request and its stamped form, byte for byte: client, sequence, watermark and the
    /// `established` flag before the command; the stamp before the request.
    @Test func clientRequestLayoutIsPinned() throws {
        let request = ClientRequest(client: ClientID(3), sequence: 9, command: .get(key: "k"), ackedThrough: 7, established: true)
        let expected: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0] + [9, 0, 0, 0, 0, 0, 0, 0] + [7, 0, 0, 0, 0, 0, 0, 0] + [1]
            + [0, 1, 0, 0, 0] + Array("k".utf8)
        #expect(request.encodedBytes() == expected && request.byteCount == expected.count)
        let stamped = StampedRequest(request, at: .zero + .microseconds(258))
        #expect(stamped.encodedBytes() == [2, 1, 0, 0, 0, 0, 0, 0] + expected)
        var flagged = expected
        flagged[24] = 2
        #expect(throws: BinaryDecodingError.invalid("boolean", offset: 24)) { try ClientRequest(decoding: flagged) }
    }

    /// The frame layout, byte for byte: a change to it is a new format version.
    @Test func frameLayoutIsPinned() throws {
        let message = RaftMessage.heartbeat(Heartbeat(term: 2, commit: 5, round: 7))
        let bytes = WireFrame(Raft.self, message: message).encodedBytes()
        let expected: [UInt8] = [1, 4] + Array("raft".utf8) + [0, 25, 0, 0, 0]
            + [4] + [2, 0, 0, 0, 0, 0, 0, 0] + [5, 0, 0, 0, 0, 0, 0, 0] + [7, 0, 0, 0, 0, 0, 0, 0]
        #expect(bytes == expected)
        #expect(try WireFrame(decoding: bytes).message(of: Raft.self) == message)
    }

    @Test func framesOfAnotherVersionAreRefusedWithAClearError() {
        var bytes = WireFrame(Zab.self, message: .leaderInfo(epoch: 3)).encodedBytes()
        for version: UInt8 in [0, 2, 255] {
            bytes[0] = version
            #expect(throws: BinaryDecodingError.unsupportedVersion(version, supported: 1)) { try WireFrame(decoding: bytes) }
        }
        #expect(BinaryDecodingError.unsupportedVersion(2, supported: 1).description == "unsupported wire format version 2 (this build speaks version 1)")
    }

    @Test func framesOfAnotherProtocolOrContentAreRefused() throws {
        let frame = WireFrame(TwoPhaseCommit.self, message: TwoPhaseCommit.Message(.ack(TransactionID(coordinator: NodeID(1), counter: 1))))
        #expect(throws: BinaryDecodingError.self) { try frame.message(of: ThreePhaseCommit.self) }
        let request = WireFrame(protocolName: "raft", content: .clientRequest,
                                ClientRequest(client: ClientID(1), sequence: 1, command: .get(key: "k")))
        #expect(throws: BinaryDecodingError.self) { try request.message(of: Raft.self) }
        #expect(try request.decode(ClientRequest.self, protocolName: "raft", content: .clientRequest).command == .get(key: "k"))
    }

    @Test func framesWithBadNamesOrOversizedPayloadsAreRefused() {
        let good = WireFrame(protocolName: "zab", content: .event, ObservableEvent.committed(4)).encodedBytes()
        var empty = good; empty[1] = 0
        var long = good; long[1] = 33
        var unprintable = good; unprintable[2] = 0x07
        var oversized = good
        let length = UInt32(WireFrame.maximumPayload + 1)
        for i in 0..<4 { oversized[6 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        for bytes in [empty, long, unprintable, oversized, good + [0]] {
            #expect(throws: BinaryDecodingError.self) { try WireFrame(decoding: bytes) }
        }
        #expect(throws: Never.self) { try WireFrame(decoding: good) }
    }
}
