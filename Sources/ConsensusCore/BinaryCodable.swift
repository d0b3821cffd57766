/// A compact, explicit binary encoding for durable records and snapshots.
///
/// Written by hand rather than with `Codable` so that the bytes on disk are stable, versionable and
/// cheap to produce, and so that a truncated or garbled record is an error, never a guess.
public protocol BinaryCodable {
    func encode(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws(BinaryDecodingError)
}

public enum BinaryDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case invalid(String, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): "record truncated at byte \(offset)"
        case .invalid(let what, let offset): "invalid \(what) at byte \(offset)"
        }
    }
}

public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Int) { write(UInt64(bitPattern: Int64(value))) }

    public mutating func write(_ value: Bool) { write(value ? 1 as UInt8 : 0) }

    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        write(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    public mutating func write(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ value: [UInt8]) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func write<T: BinaryCodable>(_ value: T) { value.encode(to: &self) }

    public mutating func write<T: BinaryCodable>(_ values: [T]) {
        write(UInt32(values.count))
        for value in values { value.encode(to: &self) }
    }
}

public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws(BinaryDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func readByte() throws(BinaryDecodingError) -> UInt8 { try take(1).first! }

    public mutating func readUInt32() throws(BinaryDecodingError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func readUInt64() throws(BinaryDecodingError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func readInt() throws(BinaryDecodingError) -> Int { Int(Int64(bitPattern: try readUInt64())) }

    public mutating func readBool() throws(BinaryDecodingError) -> Bool {
        let start = offset
        switch try readByte() {
        case 0: return false
        case 1: return true
        default: throw .invalid("boolean", offset: start)
        }
    }

    public mutating func readString() throws(BinaryDecodingError) -> String {
        let start = offset
        let count = Int(try readUInt32())
        guard let string = String(validating: try take(count), as: UTF8.self) else { throw .invalid("UTF-8 string", offset: start) }
        return string
    }

    public mutating func readOptionalString() throws(BinaryDecodingError) -> String? {
        try readBool() ? try readString() : nil
    }

    public mutating func readBytes() throws(BinaryDecodingError) -> [UInt8] {
        let count = Int(try readUInt32())
        return Array(try take(count))
    }

    public mutating func read<T: BinaryCodable>(_: T.Type = T.self) throws(BinaryDecodingError) -> T { try T(from: &self) }

    public mutating func readArray<T: BinaryCodable>(of _: T.Type = T.self) throws(BinaryDecodingError) -> [T] {
        let count = Int(try readUInt32())
        guard count <= bytes.count - offset else { throw .truncated(offset: offset) }
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try T(from: &self)) }
        return values
    }
}

extension Command: BinaryCodable {
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
}

extension ClientRequest: BinaryCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(client.rawValue)
        writer.write(sequence)
        command.encode(to: &writer)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(client: ClientID(try reader.readInt()), sequence: try reader.readUInt64(), command: try Command(from: &reader))
    }
}
