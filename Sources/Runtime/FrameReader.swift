import ConsensusCore

/// Why a peer's byte stream was refused. The connection that carried it is closed; the others
/// carry on.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    case unsupportedVersion(UInt8)
    case invalidProtocolNameLength(Int)
    case invalidContent(UInt8)
    /// A frame longer than the transport accepts (`maximumFrameBytes`), refused from its header,
    /// before any of it is buffered.
    case oversized(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .unsupportedVersion(let version): "frame of wire format version \(version) (this build speaks \(WireFrame.version))"
        case .invalidProtocolNameLength(let length): "frame protocol name of \(length) bytes (1…\(WireFrame.maximumNameLength))"
        case .invalidContent(let tag): "frame content tag \(tag)"
        case .oversized(let bytes, let limit): "frame of \(bytes) bytes (at most \(limit))"
        }
    }
}

/// Cuts a peer's byte stream into `WireFrame`s. The stream is frames back to back with no framing
/// of its own: a frame's header says how long it is (version, name length, name, content, payload
/// length; see `WireFrame`). The header is checked as soon as its bytes are in — version, name
/// length, content tag, total length — so a stray or corrupt stream fails within a few bytes and a
/// lying length is refused before anything is allocated for it. The frame's name and payload are
/// left to the `WireFrame` decoder of whoever receives it.
struct FrameReader {
    /// Bytes before a frame's payload, less its protocol name: version, name length, content, length.
    static let fixedHeaderBytes = 7

    let maximumFrameBytes: Int
    /// The start of a frame whose bytes have not all arrived.
    private var pending: [UInt8] = []

    init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Hands each frame completed by `bytes` to `deliver`, oldest first, and keeps a partial frame
    /// for the next call. `deliver` returns false to stop reading (its connection was closed).
    mutating func read(_ bytes: UnsafeRawBufferPointer, deliver: ([UInt8]) -> Bool) throws(FrameError) {
        guard !pending.isEmpty else {
            let consumed = try deliverFrames(in: bytes, deliver)
            pending.append(contentsOf: bytes[consumed...])
            return
        }
        pending.append(contentsOf: bytes)
        let consumed = try pending.withUnsafeBytes { buffer in
            Result { () throws(FrameError) in try deliverFrames(in: buffer, deliver) }
        }.get()
        pending.removeSubrange(0..<consumed)
    }

    /// Delivers the complete frames at the start of `bytes`; returns the bytes they took (all of
    /// them when `deliver` stops the reading).
    private func deliverFrames(in bytes: UnsafeRawBufferPointer, _ deliver: ([UInt8]) -> Bool) throws(FrameError) -> Int {
        var offset = 0
        while let length = try Self.frameLength(UnsafeRawBufferPointer(rebasing: bytes[offset...]), limit: maximumFrameBytes),
              length <= bytes.count - offset {
            guard deliver(Array(bytes[offset..<offset + length])) else { return bytes.count }
            offset += length
        }
        return offset
    }

    /// The length of the frame starting `bytes`, nil while its header is incomplete; throws as soon
    /// as the bytes present show that no valid frame of at most `limit` bytes starts here.
    static func frameLength(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(FrameError) -> Int? {
        guard let version = bytes.first else { return nil }
        guard version == WireFrame.version else { throw .unsupportedVersion(version) }
        guard bytes.count > 1 else { return nil }
        let nameLength = Int(bytes[1])
        guard (1...WireFrame.maximumNameLength).contains(nameLength) else { throw .invalidProtocolNameLength(nameLength) }
        let contentOffset = 2 + nameLength
        guard bytes.count > contentOffset else { return nil }
        guard WireFrame.Content(rawValue: bytes[contentOffset]) != nil else { throw .invalidContent(bytes[contentOffset]) }
        guard bytes.count >= contentOffset + 5 else { return nil }
        let payload = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: contentOffset + 1, as: UInt32.self)))
        let length = fixedHeaderBytes + nameLength + payload
        guard payload <= WireFrame.maximumPayload, length <= limit else { throw .oversized(bytes: length, limit: limit) }
        return length
    }

    /// Whether `bytes` are exactly one frame a reader with `limit` accepts.
    static func isOneFrame(_ bytes: [UInt8], limit: Int) -> Bool {
        bytes.withUnsafeBytes { buffer in (try? frameLength(buffer, limit: limit)) == bytes.count }
    }
}
