import ConsensusCore

extension KVStore {
    /// Encodes the whole state (data and sessions) in sorted order: equal states give equal bytes.
    ///
    ///     version u8 (2), data count u32, (key string, value string)*, sessions (`SessionTable`)
    public func snapshot() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + data.count * 32)
        writer.write(KVStore.snapshotVersion)
        writer.write(UInt32(data.count))
        for key in data.keys.sorted() {
            writer.write(key)
            writer.write(data[key]!)
        }
        sessions.encode(to: &writer)
        return writer.bytes
    }

    /// Restores a state from `snapshot()` bytes; malformed bytes are an error, never a partial state.
    /// `options` are the store's own (they are configuration, not state, and not in the snapshot).
    public init(snapshot bytes: [UInt8], sessions options: SessionOptions) throws(BinaryDecodingError) {
        self.init(sessions: options)
        var reader = ByteReader(bytes)
        guard try reader.readByte() == KVStore.snapshotVersion else { throw .invalid("snapshot version", offset: 0) }
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) {
            let key = try reader.readString()
            data[key] = try reader.readString()
        }
        sessions = try SessionTable(from: &reader, options: options)
        guard reader.isAtEnd else { throw .invalid("trailing bytes in snapshot", offset: reader.offset) }
    }

    /// 2: sessions with watermarks, several answers each and the clock they expire by.
    static let snapshotVersion: UInt8 = 2
}

extension SessionTable where Record: BinaryCodable {
    /// Sessions sorted by client, records by sequence: equal tables give equal bytes.
    ///
    ///     clock i64, session count u32, then per session: client i64, watermark u64,
    ///     lastActive i64, record count u32, (sequence u64, record)*
    public func encode(to writer: inout ByteWriter) {
        writer.write(clock)
        writer.write(UInt32(sessions.count))
        for client in sessions.keys.sorted() {
            let session = sessions[client]!
            writer.write(client.rawValue)
            writer.write(session.watermark)
            writer.write(session.lastActive)
            writer.write(UInt32(session.records.count))
            for entry in session.records {
                writer.write(entry.sequence)
                writer.write(entry.record)
            }
        }
    }

    /// Refuses what `encode` never writes: clients out of order, records out of order or at or
    /// below their session's watermark.
    public init(from reader: inout ByteReader, options: SessionOptions) throws(BinaryDecodingError) {
        self.init(options: options)
        clock = try reader.readInstant()
        var previous: ClientID?
        for _ in 0..<(try reader.readCount(minimumElementSize: 28)) {
            let start = reader.offset
            let client = ClientID(try reader.readInt())
            guard previous.map({ $0 < client }) ?? true else { throw .invalid("session order", offset: start) }
            previous = client
            var session = Session(watermark: try reader.readUInt64(), lastActive: try reader.readInstant(), records: [])
            for _ in 0..<(try reader.readCount(minimumElementSize: 9)) {
                let at = reader.offset
                let sequence = try reader.readUInt64()
                guard sequence > (session.records.last?.sequence ?? session.watermark) else { throw .invalid("session record order", offset: at) }
                session.records.append(Entry(sequence: sequence, record: try Record(from: &reader)))
            }
            sessions[client] = session
        }
    }
}
