import ConsensusCore

extension KVStore {
    /// Encodes the whole state (data and sessions) in sorted order: equal states give equal bytes.
    public func snapshot() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + data.count * 32)
        writer.write(KVStore.snapshotVersion)
        writer.write(UInt32(data.count))
        for key in data.keys.sorted() {
            writer.write(key)
            writer.write(data[key]!)
        }
        writer.write(UInt32(sessions.count))
        for client in sessions.keys.sorted() {
            let session = sessions[client]!
            writer.write(client.rawValue)
            writer.write(session.lastSequence)
            session.lastResult.encode(to: &writer)
        }
        return writer.bytes
    }

    /// Restores a state from `snapshot()` bytes; malformed bytes are an error, never a partial state.
    public init(snapshot bytes: [UInt8]) throws(BinaryDecodingError) {
        self.init()
        var reader = ByteReader(bytes)
        guard try reader.readByte() == KVStore.snapshotVersion else { throw .invalid("snapshot version", offset: 0) }
        for _ in 0..<(try reader.readUInt32()) {
            let key = try reader.readString()
            data[key] = try reader.readString()
        }
        for _ in 0..<(try reader.readUInt32()) {
            let client = ClientID(try reader.readInt())
            let sequence = try reader.readUInt64()
            sessions[client] = ClientSession(lastSequence: sequence, lastResult: try CommandResult(from: &reader))
        }
        guard reader.isAtEnd else { throw .invalid("trailing bytes in snapshot", offset: reader.offset) }
    }

    static let snapshotVersion: UInt8 = 1
}
