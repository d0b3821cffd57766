import ConsensusCore
import KVStore

/// The commands that move buckets between server groups. Each travels to a group as an ordinary
/// client write of one reserved key, so that the group's log orders it among the clients' commands
/// and every replica applies it at the same point — the rule 6.824's shardkv states as "configuration
/// changes and shard moves go through the log". A migration controller (`ShardController`) sends
/// them, as `redis-cli --cluster reshard` drives Redis Cluster's slot moves with commands.
public enum ShardControl: Equatable, Sendable {
    /// Move to this configuration: the next after the group's, once no bucket is still moving.
    case adopt(ShardConfiguration)
    /// The data and sessions of `bucket`, which left the group at configuration `number`.
    case export(Bucket, number: Int)
    /// Take `bucket`, owned here since configuration `number`, from the owner before.
    case install(Bucket, number: Int, BucketHandoff)
    /// Drop `bucket`, which left at configuration `number`: its new owner has installed it.
    case release(Bucket, number: Int)
    /// Phase one of a cross-shard transaction (two-phase commit whose participants are groups):
    /// check and lock the transaction's writes to this group's keys, and vote.
    case prepare(transaction: String, [Command])
    /// Phase two: apply the prepared writes and unlock.
    case commit(transaction: String)
    /// Phase two: drop the prepared writes and unlock; a late PREPARE of it then votes no.
    case abort(transaction: String)

    /// The reserved key. It starts with a control character, which no workload key holds.
    public static let key = "\u{1}shard-control"

    /// The write that carries this command.
    public var command: Command { .put(key: Self.key, value: Hex.encode(bytes)) }

    /// The command in a few words (`export b3 (v2)`), for operators' messages.
    public var summary: String {
        switch self {
        case .adopt(let version): "adopt v\(version.number)"
        case .export(let bucket, let number): "export \(bucket) (v\(number))"
        case .install(let bucket, let number, _): "install \(bucket) (v\(number))"
        case .release(let bucket, let number): "release \(bucket) (v\(number))"
        case .prepare(let transaction, _): "prepare \(transaction)"
        case .commit(let transaction): "commit \(transaction)"
        case .abort(let transaction): "abort \(transaction)"
        }
    }

    /// A group's answer to a command it cannot carry out yet, at configuration `number`.
    public static func notYet(_ number: Int) -> CommandResult { .value("not-yet \(number)") }

    /// Whether an answer's text is `notYet`'s (never a handoff: a handoff is hex).
    public static func isNotYet(_ text: String) -> Bool { text.hasPrefix("not-yet ") }

    /// A group's NO to a PREPARE, saying why. A value, like `notYet`: a compare-and-set mismatch
    /// would reach a RESP client as a null reply, which says nothing of a vote.
    public static func no(_ reason: String) -> CommandResult { .value("no \(reason)") }

    /// The reason a NO gives; nil when `text` is no NO.
    public static func reasonOfNo(_ text: String) -> String? { text.hasPrefix("no ") ? String(text.dropFirst(3)) : nil }

    /// The control command a write carries; nil when the write is not one, or does not decode.
    public init?(_ command: Command, sessions: SessionOptions) {
        guard case .put(Self.key, let text) = command, let bytes = Hex.decode(text) else { return nil }
        var reader = ByteReader(bytes)
        guard let decoded = try? Self.decode(&reader, sessions: sessions), reader.isAtEnd else { return nil }
        self = decoded
    }

    var bytes: [UInt8] {
        var writer = ByteWriter(capacity: 64)
        switch self {
        case .adopt(let configuration):
            writer.write(0 as UInt8)
            writer.write(ConfigurationText.encode(configuration, tag: ""))
        case .export(let bucket, let number):
            writer.write(1 as UInt8)
            writer.write(bucket.index)
            writer.write(number)
        case .install(let bucket, let number, let handoff):
            writer.write(2 as UInt8)
            writer.write(bucket.index)
            writer.write(number)
            handoff.encode(to: &writer)
        case .release(let bucket, let number):
            writer.write(3 as UInt8)
            writer.write(bucket.index)
            writer.write(number)
        case .prepare(let transaction, let writes):
            writer.write(4 as UInt8)
            writer.write(transaction)
            writer.write(writes)
        case .commit(let transaction):
            writer.write(5 as UInt8)
            writer.write(transaction)
        case .abort(let transaction):
            writer.write(6 as UInt8)
            writer.write(transaction)
        }
        return writer.bytes
    }

    private static func decode(_ reader: inout ByteReader, sessions: SessionOptions) throws(BinaryDecodingError) -> ShardControl {
        let tag = try reader.readByte()
        switch tag {
        case 0:
            guard let decoded = ConfigurationText.decode(try reader.readString()) else { throw .invalid("configuration", offset: reader.offset) }
            return .adopt(decoded.version)
        case 4: return .prepare(transaction: try reader.readString(), try reader.readArray(of: Command.self))
        case 5: return .commit(transaction: try reader.readString())
        case 6: return .abort(transaction: try reader.readString())
        default: break
        }
        let bucket = Bucket(try reader.readNonNegativeInt("bucket")), number = try reader.readNonNegativeInt("configuration number")
        switch tag {
        case 1: return .export(bucket, number: number)
        case 2: return .install(bucket, number: number, try BucketHandoff(from: &reader, sessions: sessions))
        case 3: return .release(bucket, number: number)
        default: throw .invalid("shard control tag \(tag)", offset: 0)
        }
    }
}

/// A bucket's data and its old owner's client sessions, as they move to the new owner.
public struct BucketHandoff: Equatable, Sendable {
    public var data: [String: String]
    public var sessions: SessionTable<CommandResult>

    public init(data: [String: String], sessions: SessionTable<CommandResult>) {
        self.data = data
        self.sessions = sessions
    }

    /// Keys in order, then the sessions: equal handoffs give equal bytes.
    func encode(to writer: inout ByteWriter) {
        writer.write(UInt32(data.count))
        for key in data.keys.sorted() {
            writer.write(key)
            writer.write(data[key]!)
        }
        sessions.encode(to: &writer)
    }

    init(from reader: inout ByteReader, sessions options: SessionOptions) throws(BinaryDecodingError) {
        data = [:]
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) {
            let key = try reader.readString()
            data[key] = try reader.readString()
        }
        sessions = try SessionTable(from: &reader, options: options)
    }

    /// The text an export answers with (a value of the store's reply).
    public var text: String {
        var writer = ByteWriter(capacity: 64)
        encode(to: &writer)
        return Hex.encode(writer.bytes)
    }

    public init?(text: String, sessions: SessionOptions) {
        guard let bytes = Hex.decode(text) else { return nil }
        var reader = ByteReader(bytes)
        guard let decoded = try? BucketHandoff(from: &reader, sessions: sessions), reader.isAtEnd else { return nil }
        self = decoded
    }
}
