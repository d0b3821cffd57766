/// The binary encoding of the client vocabulary: what a client sends a node, what the node
/// answers, and the command inside (also the payload of every backend's log entries).
///
///     Command        tag u8 (0 get, 1 put, 2 delete, 3 append, 4 cas), key string, then
///                    put/append: value string; cas: expected string?, value string
///     CommandResult  tag u8 (0 value, 1 done, 2 casMismatch), then value/current string?
///     ClientRequest  client i64, sequence u64, ackedThrough u64, established bool u8, command
///     StampedRequest stamp i64 (microseconds), request
///     ClientReply    client i64, sequence u64, status tag u8 (0 ok, 1 notLeader, 2 rejected), then
///                    ok: result; notLeader: hint node id?; rejected: reason u8 (0 aborted,
///                    1 unavailable, 2 superseded, 3 sessionExpired)
extension Command: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .get(let key):
            writer.write(0 as UInt8); writer.write(key)
        case .put(let key, let value):
            writer.write(1 as UInt8); writer.write(key); writer.write(value)
        case .delete(let key):
            writer.write(2 as UInt8); writer.write(key)
        case .append(let key, let value):
            writer.write(3 as UInt8); writer.write(key); writer.write(value)
        case .cas(let key, let expected, let value):
            writer.write(4 as UInt8); writer.write(key); writer.write(expected); writer.write(value)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .get(key: try reader.readString())
        case 1: self = .put(key: try reader.readString(), value: try reader.readString())
        case 2: self = .delete(key: try reader.readString())
        case 3: self = .append(key: try reader.readString(), value: try reader.readString())
        case 4: self = .cas(key: try reader.readString(), expected: try reader.readOptionalString(), value: try reader.readString())
        default: throw .invalid("command tag", offset: start)
        }
    }

    /// The encoded length in bytes.
    public var byteCount: Int {
        switch self {
        case .get(let key), .delete(let key): 1 + WireSize.string(key)
        case .put(let key, let value), .append(let key, let value): 1 + WireSize.string(key) + WireSize.string(value)
        case .cas(let key, let expected, let value): 1 + WireSize.string(key) + WireSize.string(expected) + WireSize.string(value)
        }
    }
}

extension CommandResult: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .value(let value): writer.write(0 as UInt8); writer.write(value)
        case .done: writer.write(1 as UInt8)
        case .casMismatch(let current): writer.write(2 as UInt8); writer.write(current)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .value(try reader.readOptionalString())
        case 1: self = .done
        case 2: self = .casMismatch(current: try reader.readOptionalString())
        default: throw .invalid("result tag", offset: start)
        }
    }

    public var byteCount: Int {
        switch self {
        case .value(let value): 1 + WireSize.string(value)
        case .done: 1
        case .casMismatch(let current): 1 + WireSize.string(current)
        }
    }
}

extension ClientRequest: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(client.rawValue)
        writer.write(sequence)
        writer.write(ackedThrough)
        writer.write(established)
        command.encode(to: &writer)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let client = ClientID(try reader.readInt()), sequence = try reader.readUInt64()
        let ackedThrough = try reader.readUInt64(), established = try reader.readBool()
        self.init(client: client, sequence: sequence, command: try Command(from: &reader), ackedThrough: ackedThrough, established: established)
    }

    public var byteCount: Int { Self.headerByteCount + command.byteCount }

    /// Client, sequence, watermark and flag: the bytes before the command.
    static let headerByteCount = 25
    /// The shortest encoding: a get of the empty key.
    public static let minimumByteCount = headerByteCount + 5
}

extension StampedRequest: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(stamp)
        request.encode(to: &writer)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let stamp = try reader.readInstant()
        self.init(try ClientRequest(from: &reader), at: stamp)
    }

    public var byteCount: Int { 8 + request.byteCount }

    /// The shortest encoding, for bounding counts of stamped requests before decoding them.
    public static let minimumByteCount = 8 + ClientRequest.minimumByteCount
}

extension RejectReason: WireTagged {
    public static let wireCases: [RejectReason] = [.aborted, .unavailable, .superseded, .sessionExpired, .wrongGroup]
}

extension ReplyStatus: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .ok(let result): writer.write(0 as UInt8); result.encode(to: &writer)
        case .notLeader(let hint): writer.write(1 as UInt8); writer.write(hint)
        case .rejected(let reason): writer.write(2 as UInt8); writer.write(tag: reason)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .ok(try CommandResult(from: &reader))
        case 1: self = .notLeader(hint: try reader.readOptionalNodeID())
        case 2: self = .rejected(try reader.readTag(RejectReason.self, "reject reason"))
        default: throw .invalid("reply status tag", offset: start)
        }
    }

    public var byteCount: Int {
        switch self {
        case .ok(let result): 1 + result.byteCount
        case .notLeader(let hint): hint == nil ? 2 : 10
        case .rejected: 2
        }
    }
}

extension ClientReply: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(client.rawValue)
        writer.write(sequence)
        status.encode(to: &writer)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(client: ClientID(try reader.readInt()), sequence: try reader.readUInt64(), status: try ReplyStatus(from: &reader))
    }

    public var byteCount: Int { 16 + status.byteCount }
}
