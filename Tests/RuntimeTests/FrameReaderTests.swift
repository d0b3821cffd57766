import ConsensusCore
@testable import Runtime
import Testing

@Suite struct FrameReaderTests {
    static func read(_ chunks: [[UInt8]], limit: Int = 1 << 20) throws(FrameError) -> [[UInt8]] {
        var reader = FrameReader(maximumFrameBytes: limit)
        var frames: [[UInt8]] = []
        for chunk in chunks {
            let result = chunk.withUnsafeBytes { bytes in
                Result { () throws(FrameError) in try reader.read(bytes) { frames.append($0); return true } }
            }
            try result.get()
        }
        return frames
    }

    /// However the stream is cut into reads, the same frames come out, each whole and in order.
    @Test func framesSurviveAnyCutOfTheStream() throws {
        var random = SplitMix64(seed: 7)
        let frames = (0..<200).map { index in
            WireFrame(protocolName: ["raft", "zab", "2pc"][index % 3], content: .message,
                      payload: (0..<Int(random.next() % 3000)).map { UInt8(truncatingIfNeeded: $0 &+ index) }).encodedBytes()
        }
        let stream = frames.flatMap { $0 }
        for maximumCut in [1, 5, 100, 4096, 70_000] {
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let length = min(Int(random.next() % UInt64(maximumCut)) + 1, stream.count - offset)
                chunks.append(Array(stream[offset..<offset + length]))
                offset += length
            }
            #expect(try Self.read(chunks) == frames, "cuts of at most \(maximumCut) bytes")
        }
    }

    /// A bad header fails on the byte that shows it, before the rest arrives.
    @Test func aBadHeaderFailsAsSoonAsItShows() {
        #expect(throws: FrameError.unsupportedVersion(0x47)) { try Self.read([[0x47]]) }
        #expect(throws: FrameError.invalidProtocolNameLength(33)) { try Self.read([[WireFrame.version], [33]]) }
        let header: [UInt8] = [WireFrame.version, 1, UInt8(ascii: "x")]
        #expect(throws: FrameError.invalidContent(200)) { try Self.read([header + [200]]) }
        #expect(throws: FrameError.oversized(bytes: 8 + 1000, limit: 1000)) { try Self.read([header + [0, 0xE8, 0x03, 0, 0]], limit: 1000) }
        #expect(throws: FrameError.oversized(bytes: 8 + 0xFFFF_FFFF, limit: 1 << 20)) { try Self.read([header + [0, 0xFF, 0xFF, 0xFF, 0xFF]]) }
        #expect(throws: Never.self) { try Self.read([header + [0, 1, 0, 0]]) }
    }

    @Test func oneFrameIsRecognisedExactly() {
        let frame = WireFrame(protocolName: "raft", content: .message, payload: [1, 2, 3]).encodedBytes()
        #expect(FrameReader.isOneFrame(frame, limit: 100))
        #expect(!FrameReader.isOneFrame(frame + [0], limit: 100))
        #expect(!FrameReader.isOneFrame(Array(frame.dropLast()), limit: 100))
        #expect(!FrameReader.isOneFrame(frame, limit: frame.count - 1))
    }
}
