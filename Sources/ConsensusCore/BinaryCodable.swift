/// A compact, explicit binary encoding for durable records, snapshots and wire messages.
///
/// Written by hand rather than with `Codable` so that the bytes on disk and on the wire are stable,
/// versionable and cheap to produce, and so that a truncated or garbled record is an error, never
/// a guess. Integers are little-endian and fixed-width; strings and byte arrays carry a 32-bit
/// length; optionals a presence byte; arrays a 32-bit count; enums a tag byte.
///
/// Decoders never trap on bad input: every length and count is checked against the bytes that
/// remain before anything is allocated, every tag is validated, strings must be valid UTF-8.
public protocol BinaryCodable {
    func encode(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws(BinaryDecodingError)
}

/// A `BinaryCodable` value that knows its encoded length without encoding itself: `byteCount` is
/// exactly the number of bytes `encode(to:)` writes (the wire round-trip tests hold every type to it).
/// Computed arithmetically, so the simulator can count the bytes of every message it sends.
public protocol WireCodable: BinaryCodable {
    var byteCount: Int { get }
}

public enum BinaryDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case invalid(String, offset: Int)
    /// A frame written in a wire format version this build does not speak.
    case unsupportedVersion(UInt8, supported: UInt8)

    public var description: String {
        switch self {
        case .truncated(let offset): "record truncated at byte \(offset)"
        case .invalid(let what, let offset): "invalid \(what) at byte \(offset)"
        case .unsupportedVersion(let version, let supported):
            "unsupported wire format version \(version) (this build speaks version \(supported))"
        }
    }
}

extension BinaryCodable {
    /// The value's encoding.
    public func encodedBytes() -> [UInt8] {
        var writer = ByteWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a value that fills `bytes` exactly: trailing bytes are an error.
    public init(decoding bytes: [UInt8]) throws(BinaryDecodingError) {
        var reader = ByteReader(bytes)
        self = try Self(from: &reader)
        guard reader.isAtEnd else { throw .invalid("trailing bytes (\(reader.remaining))", offset: reader.offset) }
    }
}

extension WireCodable {
    /// The value's encoding, written into a buffer of exactly `byteCount` bytes.
    public func encodedBytes() -> [UInt8] {
        var writer = ByteWriter(capacity: byteCount)
        encode(to: &writer)
        return writer.bytes
    }
}

/// Encoded sizes of the primitive fields, for `byteCount` implementations that mirror `encode(to:)`.
public enum WireSize {
    /// A `String`: 32-bit length and UTF-8 bytes.
    @inlinable public static func string(_ value: String) -> Int { 4 + value.utf8.count }
    /// A `String?`: presence byte, then the string.
    @inlinable public static func string(_ value: String?) -> Int { value.map { 5 + $0.utf8.count } ?? 1 }
    /// A `[UInt8]`: 32-bit length and the bytes.
    @inlinable public static func bytes(_ value: [UInt8]) -> Int { 4 + value.count }
    /// An array of sized values: 32-bit count, then the elements.
    @inlinable public static func array<T: WireCodable>(_ values: [T]) -> Int {
        var total = 4
        for value in values { total += value.byteCount }
        return total
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

    /// A node id as an `Int`.
    public mutating func write(_ value: NodeID) { write(value.rawValue) }

    /// A point in time as its signed 64-bit count of microseconds.
    public mutating func write(_ value: Instant) { write(UInt64(bitPattern: value.microseconds)) }

    public mutating func write(_ value: String) {
        let utf8 = value.utf8
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

    /// An optional 64-bit integer: presence byte, then the value.
    public mutating func write(_ value: UInt64?) {
        write(value != nil)
        if let value { write(value) }
    }

    /// An optional node id: presence byte, then the id.
    public mutating func write(_ value: NodeID?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write<T: BinaryCodable>(_ value: T) { value.encode(to: &self) }

    /// An optional value: presence byte, then the value.
    public mutating func write<T: BinaryCodable>(_ value: T?) {
        write(value != nil)
        if let value { value.encode(to: &self) }
    }

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
        self.offset = min(max(offset, 0), bytes.count)
    }

    public var isAtEnd: Bool { offset == bytes.count }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// The next `count` bytes, if that many remain.
    public mutating func readSlice(count: Int) throws(BinaryDecodingError) -> ArraySlice<UInt8> { try take(count) }

    private mutating func take(_ count: Int) throws(BinaryDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func readByte() throws(BinaryDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next byte, left unread (a tag shared by two decoders).
    public func peekByte() throws(BinaryDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        return bytes[offset]
    }

    public mutating func readUInt32() throws(BinaryDecodingError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func readUInt64() throws(BinaryDecodingError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func readInt() throws(BinaryDecodingError) -> Int { Int(truncatingIfNeeded: Int64(bitPattern: try readUInt64())) }

    /// An `Int` that must not be negative (log indexes, offsets); `what` names it in the error.
    public mutating func readNonNegativeInt(_ what: String) throws(BinaryDecodingError) -> Int {
        let start = offset
        let value = try readInt()
        guard value >= 0 else { throw .invalid("\(what) (\(value))", offset: start) }
        return value
    }

    public mutating func readInstant() throws(BinaryDecodingError) -> Instant {
        Instant(microseconds: Int64(bitPattern: try readUInt64()))
    }

    public mutating func readBool() throws(BinaryDecodingError) -> Bool {
        let start = offset
        switch try readByte() {
        case 0: return false
        case 1: return true
        default: throw .invalid("boolean", offset: start)
        }
    }

    /// A node id: positive (nodes are numbered from 1).
    public mutating func readNodeID() throws(BinaryDecodingError) -> NodeID {
        let start = offset
        let raw = try readInt()
        guard raw > 0 else { throw .invalid("node id (\(raw))", offset: start) }
        return NodeID(raw)
    }

    public mutating func readOptionalNodeID() throws(BinaryDecodingError) -> NodeID? {
        try readBool() ? try readNodeID() : nil
    }

    public mutating func readOptionalUInt64() throws(BinaryDecodingError) -> UInt64? {
        try readBool() ? try readUInt64() : nil
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

    public mutating func readOptional<T: BinaryCodable>(_: T.Type = T.self) throws(BinaryDecodingError) -> T? {
        try readBool() ? try T(from: &self) : nil
    }

    /// An element count, checked against the bytes that remain: `count` elements of at least
    /// `minimumElementSize` bytes each must still fit, so no count can make a decoder allocate more
    /// than the input justifies.
    public mutating func readCount(minimumElementSize: Int = 1) throws(BinaryDecodingError) -> Int {
        let start = offset
        let count = Int(try readUInt32())
        guard count <= remaining / max(minimumElementSize, 1) else { throw .truncated(offset: start) }
        return count
    }

    public mutating func readArray<T: BinaryCodable>(of _: T.Type = T.self, minimumElementSize: Int = 1) throws(BinaryDecodingError) -> [T] {
        let count = try readCount(minimumElementSize: minimumElementSize)
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try T(from: &self)) }
        return values
    }

    /// A tag byte that must name a case of `T` (`what` names the field in the error).
    public mutating func readTag<T: RawRepresentable>(_: T.Type = T.self, _ what: String) throws(BinaryDecodingError) -> T where T.RawValue == UInt8 {
        let start = offset
        guard let value = T(rawValue: try readByte()) else { throw .invalid(what, offset: start) }
        return value
    }
}

/// An enum whose cases travel as one byte without being `UInt8`-backed (their raw values are the
/// names the lab prints). `wireCases` lists the cases in tag order: a case's tag is its position,
/// so the list is the wire format and may only grow at the end.
public protocol WireTagged: Equatable {
    static var wireCases: [Self] { get }
}

extension ByteWriter {
    public mutating func write<T: WireTagged>(tag value: T) {
        guard let index = T.wireCases.firstIndex(of: value) else { preconditionFailure("\(value) is missing from \(T.self).wireCases") }
        write(UInt8(index))
    }
}

extension ByteReader {
    /// A tag byte that must name one of `T.wireCases` (`what` names the field in the error).
    public mutating func readTag<T: WireTagged>(_: T.Type = T.self, _ what: String) throws(BinaryDecodingError) -> T {
        let start = offset
        let index = Int(try readByte())
        guard index < T.wireCases.count else { throw .invalid(what, offset: start) }
        return T.wireCases[index]
    }
}
