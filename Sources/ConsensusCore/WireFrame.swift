/// The versioned envelope of everything a runtime ships between processes: which format, which
/// protocol, what kind of payload, and the payload.
///
///     offset 0  version   u8   `WireFrame.version` (currently 1); any other value is refused
///                              with `BinaryDecodingError.unsupportedVersion`
///     offset 1  name      u8   length n of the protocol name (1…32), then n bytes of printable
///                              ASCII: the backend's `protocolName` ("raft", "zab", "2pc", …)
///     2 + n     content   u8   what the payload is: 0 protocol message, 1 client request,
///                              2 client reply, 3 snapshot, 4 observable event
///     3 + n     length    u32  payload length, at most `maximumPayload`
///     7 + n     payload        the value's `BinaryCodable` encoding; a protocol message starts
///                              with its own kind tag byte
///
/// Everything after the version byte belongs to that version: a later format may change any of it.
/// A frame is self-delimiting, so a stream transport can read frames back to back.
public struct WireFrame: Hashable, Sendable {
    /// The format version this build writes and reads.
    public static let version: UInt8 = 1
    /// The largest payload a frame may carry (64 MiB): a corrupt length is refused before anything
    /// is allocated for it.
    public static let maximumPayload = 64 << 20
    /// The longest protocol name a frame may carry.
    public static let maximumNameLength = 32

    public enum Content: UInt8, Hashable, Sendable, CaseIterable {
        case message = 0
        case clientRequest = 1
        case clientReply = 2
        case snapshot = 3
        case event = 4
    }

    public var protocolName: String
    public var content: Content
    public var payload: [UInt8]

    public init(protocolName: String, content: Content, payload: [UInt8]) {
        precondition(Self.isValidName(protocolName.utf8), "protocol name \"\(protocolName)\" is not 1…32 printable ASCII bytes")
        precondition(payload.count <= Self.maximumPayload, "frame payload of \(payload.count) bytes exceeds \(Self.maximumPayload)")
        self.protocolName = protocolName
        self.content = content
        self.payload = payload
    }

    /// A frame carrying `value`'s encoding.
    public init<T: WireCodable>(protocolName: String, content: Content, _ value: T) {
        self.init(protocolName: protocolName, content: content, payload: value.encodedBytes())
    }

    /// A frame carrying one of `Backend`'s protocol messages.
    public init<Backend: ReplicationBackend>(_: Backend.Type, message: Backend.Message) {
        self.init(protocolName: Backend.protocolName, content: .message, message)
    }

    /// The payload decoded as `T`, after checking that the frame belongs to `protocolName` and
    /// carries `content`; the payload must decode exactly.
    public func decode<T: BinaryCodable>(_: T.Type, protocolName expected: String, content expectedContent: Content) throws(BinaryDecodingError) -> T {
        guard protocolName == expected else {
            throw .invalid("frame protocol \"\(protocolName)\" (expected \"\(expected)\")", offset: 1)
        }
        guard content == expectedContent else {
            throw .invalid("frame content \(content) (expected \(expectedContent))", offset: 2 + protocolName.utf8.count)
        }
        return try T(decoding: payload)
    }

    /// The protocol message this frame carries, for `Backend`.
    public func message<Backend: ReplicationBackend>(of _: Backend.Type) throws(BinaryDecodingError) -> Backend.Message {
        try decode(Backend.Message.self, protocolName: Backend.protocolName, content: .message)
    }

    static func isValidName(_ name: some Collection<UInt8>) -> Bool {
        (1...maximumNameLength).contains(name.count) && name.allSatisfy { (0x21...0x7E).contains($0) }
    }
}

extension WireFrame: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(Self.version)
        writer.write(UInt8(protocolName.utf8.count))
        for byte in protocolName.utf8 { writer.write(byte) }
        writer.write(content.rawValue)
        writer.write(payload)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let version = try reader.readByte()
        guard version == Self.version else { throw .unsupportedVersion(version, supported: Self.version) }
        let nameStart = reader.offset
        let nameBytes = try reader.readSlice(count: Int(try reader.readByte()))
        guard Self.isValidName(nameBytes) else { throw .invalid("frame protocol name", offset: nameStart) }
        protocolName = String(decoding: nameBytes, as: UTF8.self)
        content = try reader.readTag(Content.self, "frame content")
        let lengthStart = reader.offset
        let length = Int(try reader.readUInt32())
        guard length <= Self.maximumPayload else {
            throw .invalid("frame payload length \(length) (at most \(Self.maximumPayload))", offset: lengthStart)
        }
        payload = Array(try reader.readSlice(count: length))
    }

    public var byteCount: Int { 7 + protocolName.utf8.count + payload.count }
}
