import ConsensusCore

/// The framing of every record `FileStorage` writes, in log segments and snapshot files alike:
///
///     offset 0  UInt32 LE  length   bytes after this 8-byte header (type byte + payload), at least 1
///     offset 4  UInt32 LE  crc      CRC-32C of the record's offset in its file (UInt64 LE), the
///                                   length field and the body
///     offset 8  UInt8      type     a `RecordType`
///     offset 9  payload             `ByteWriter` encoding, see `LogRecord` and `SnapshotFile`
///
/// The checksum covers the length field, so a damaged length is caught rather than obeyed, and the
/// record's own offset, so a record a misdirected write put somewhere else is not intact there (it
/// would otherwise replay out of order).
enum RecordFrame {
    static let headerSize = 8

    /// A record whose framing and checksum are intact; its payload may still fail to decode.
    struct Intact {
        let type: UInt8
        let payload: Range<Int>
        /// Offset just past the record.
        let end: Int
    }

    enum Reading {
        case intact(Intact)
        /// The bytes at this offset are not a whole, checksummed record; the string says why.
        case damaged(String)
    }

    /// The record to write at `offset` of its file.
    static func encode(type: RecordType, payload: [UInt8], at offset: Int) -> [UInt8] {
        let body = [type.rawValue] + payload
        var header = ByteWriter(capacity: headerSize + body.count)
        header.write(UInt32(body.count))
        header.write(checksum(at: offset, length: header.bytes[0..<4], body: body[...]))
        return header.bytes + body
    }

    /// Bytes of a record with `payloadCount` bytes of payload.
    static func size(payloadCount: Int) -> Int { headerSize + 1 + payloadCount }

    static func read(_ bytes: [UInt8], at offset: Int) -> Reading {
        let available = bytes.count - offset
        var header = ByteReader(bytes, offset: offset)
        let length: Int, stored: UInt32
        do {
            length = Int(try header.readUInt32())
            stored = try header.readUInt32()
        } catch {
            return .damaged("incomplete record header (\(available) of \(headerSize) bytes)")
        }
        guard length >= 1 else { return .damaged("record length 0") }
        guard length <= available - headerSize else {
            return .damaged("record length \(length) runs past the end of the file (\(available - headerSize) bytes left)")
        }
        let body = offset + headerSize..<offset + headerSize + length
        let computed = checksum(at: offset, length: bytes[offset..<offset + 4], body: bytes[body])
        guard computed == stored else {
            return .damaged("checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        return .intact(Intact(type: bytes[body.lowerBound], payload: body.lowerBound + 1..<body.upperBound, end: body.upperBound))
    }

    /// Whether an intact record begins anywhere after `offset` (at any byte, since the damaged
    /// record's own length cannot be trusted). This is the test that tells mid-log corruption from a
    /// torn tail: see `FileStorage`.
    static func intactRecordFollows(_ bytes: [UInt8], after offset: Int) -> Bool {
        var candidate = offset + 1
        while candidate + headerSize < bytes.count {
            if case .intact = read(bytes, at: candidate) { return true }
            candidate += 1
        }
        return false
    }

    private static func checksum(at offset: Int, length: ArraySlice<UInt8>, body: ArraySlice<UInt8>) -> UInt32 {
        let position = withUnsafeBytes(of: UInt64(offset).littleEndian) { CRC32C.checksum($0) }
        return CRC32C.checksum(body, seed: CRC32C.checksum(length, seed: position))
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}

/// The record type byte. Values are part of the file format: never renumber.
enum RecordType: UInt8, CustomStringConvertible {
    case hardState = 1
    case append = 2
    case truncate = 3
    /// First record of a checkpoint segment: the snapshot's position (its image is in the snapshot
    /// file) and how many records after it complete the checkpoint.
    case snapshot = 4
    /// The whole content of a snapshot file.
    case snapshotImage = 5
    /// First record of a segment started by rotation: the length of the segment before it.
    case segmentStart = 6

    var description: String {
        switch self {
        case .hardState: "hard-state"
        case .append: "append"
        case .truncate: "truncate"
        case .snapshot: "snapshot"
        case .snapshotImage: "snapshot-image"
        case .segmentStart: "segment-start"
        }
    }
}

/// What one log record says: a `PersistOp`, except that a snapshot is logged by position only.
enum LogRecord<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable> {
    case op(PersistOp<Entry, HardState>)
    /// Begins a checkpoint; the next `imageRecords` records hold the rest of its state. They were
    /// synced with it, before it was renamed into place, so damage among them is never a torn write.
    case snapshotTaken(lastIndex: LogIndex, lastTerm: UInt64, imageRecords: Int)
    /// Begins a segment that rotation started: the segment before it was `previousLength` bytes
    /// long when it was fsynced and closed. A shorter one lost synced writes.
    case segmentStart(previousLength: Int)

    /// The framed start record (at offset 0) of a segment that follows one of `previousLength` bytes.
    static func startOfSegment(after previousLength: Int) -> [UInt8] {
        var payload = ByteWriter(capacity: 8)
        payload.write(previousLength)
        return RecordFrame.encode(type: .segmentStart, payload: payload.bytes, at: 0)
    }

    /// The records of a checkpoint segment: the snapshot record, then `image` (the hard state and
    /// the retained entries).
    static func checkpoint(_ snapshot: Snapshot, image: [PersistOp<Entry, HardState>]) -> [UInt8] {
        var payload = ByteWriter()
        payload.write(snapshot.lastIndex)
        payload.write(snapshot.lastTerm)
        payload.write(image.count)
        return image.reduce(RecordFrame.encode(type: .snapshot, payload: payload.bytes, at: 0)) { records, op in
            let (type, payload) = body(op)
            return records + RecordFrame.encode(type: type, payload: payload, at: records.count)
        }
    }

    /// The type and payload of `op`'s record; `op` is not a snapshot (a snapshot starts a
    /// `checkpoint`). `RecordFrame.encode` frames them for the offset the record will have.
    static func body(_ op: PersistOp<Entry, HardState>) -> (type: RecordType, payload: [UInt8]) {
        var payload = ByteWriter()
        let type: RecordType
        switch op {
        case .hardState(let state):
            type = .hardState
            payload.write(state)
        case .append(let firstIndex, let entries):
            type = .append
            payload.write(firstIndex)
            payload.write(entries)
        case .truncate(let index):
            type = .truncate
            payload.write(index)
        case .snapshot:
            preconditionFailure("a snapshot is logged by LogRecord.checkpoint")
        }
        return (type, payload.bytes)
    }

    /// Decodes an intact record's payload; the whole payload must be consumed.
    init(_ record: RecordFrame.Intact, in bytes: [UInt8]) throws(BinaryDecodingError) {
        var reader = ByteReader(Array(bytes[record.payload]))
        switch RecordType(rawValue: record.type) {
        case .hardState:
            self = .op(.hardState(try reader.read()))
        case .append:
            self = .op(.append(firstIndex: try reader.readInt(), entries: try reader.readArray()))
        case .truncate:
            self = .op(.truncate(from: try reader.readInt()))
        case .snapshot:
            self = .snapshotTaken(lastIndex: try reader.readInt(), lastTerm: try reader.readUInt64(), imageRecords: try reader.readNonNegativeInt("image records"))
        case .segmentStart:
            self = .segmentStart(previousLength: try reader.readNonNegativeInt("segment length"))
        case .snapshotImage, nil:
            throw .invalid("log record type \(record.type)", offset: 0)
        }
        guard reader.isAtEnd else { throw .invalid("trailing bytes after the payload", offset: reader.offset) }
    }
}

/// A snapshot file: exactly one `snapshotImage` record (lastIndex, lastTerm, data), with its own
/// checksum like every record.
enum SnapshotFile {
    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var payload = ByteWriter(capacity: snapshot.data.count + 24)
        payload.write(snapshot.lastIndex)
        payload.write(snapshot.lastTerm)
        payload.write(snapshot.data)
        return RecordFrame.encode(type: .snapshotImage, payload: payload.bytes, at: 0)
    }

    /// Decodes a snapshot file's bytes; any damage is an error naming `file`.
    static func decode(_ bytes: [UInt8], file: String) throws(StorageError) -> Snapshot {
        let record: RecordFrame.Intact
        switch RecordFrame.read(bytes, at: 0) {
        case .intact(let intact): record = intact
        case .damaged(let reason): throw .corruptRecord(file: file, offset: 0, reason: reason)
        }
        guard record.type == RecordType.snapshotImage.rawValue else {
            throw .corruptRecord(file: file, offset: 0, reason: "record type \(record.type) is not a snapshot image")
        }
        guard record.end == bytes.count else {
            throw .corruptRecord(file: file, offset: record.end, reason: "\(bytes.count - record.end) unexpected bytes after the snapshot")
        }
        var reader = ByteReader(Array(bytes[record.payload]))
        do {
            let snapshot = Snapshot(lastIndex: try reader.readInt(), lastTerm: try reader.readUInt64(), data: try reader.readBytes())
            guard reader.isAtEnd else { throw BinaryDecodingError.invalid("trailing bytes after the payload", offset: reader.offset) }
            return snapshot
        } catch {
            throw .corruptRecord(file: file, offset: 0, reason: "undecodable snapshot: \(error)")
        }
    }
}
