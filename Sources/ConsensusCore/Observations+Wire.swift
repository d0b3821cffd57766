/// The binary encoding of what a runtime ships besides messages and client traffic: snapshots
/// (state transfer) and observable events (the admin channel that feeds `events.csv`).
///
///     Snapshot         last index i64 (≥ 0), last term u64, data (u32 length + bytes)
///     ObservableEvent  tag u8, then
///                      0 role: role u8 (0 leader, 1 follower, 2 candidate), term u64, name string
///                      1 committed: index i64 (≥ 0)
///                      2 coordinating: transaction u64
///                      3 decided: transaction u64, commit bool
///                      4 note: kind string, detail string
///                      5 violation: rule u8 (0 election-safety, 1 committed-entry-overwritten,
///                                   2 history-beyond-leader, 3 inconsistent-sync,
///                                   4 conflicting-decision), detail string
///                      6 prepared: transaction u64, key string
extension Snapshot: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(lastIndex)
        writer.write(lastTerm)
        writer.write(data)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(lastIndex: try reader.readNonNegativeInt("snapshot index"), lastTerm: try reader.readUInt64(), data: try reader.readBytes())
    }

    public var byteCount: Int { 20 + data.count }
}

extension Role: WireTagged {
    public static let wireCases: [Role] = [.leader, .follower, .candidate]
}

extension SafetyRule: WireTagged {
    public static let wireCases: [SafetyRule] = [.electionSafety, .committedEntryOverwritten, .historyBeyondLeader, .inconsistentSync,
                                                  .conflictingDecision, .bucketServedTwice]
}

extension ObservableEvent: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .role(let role, let term, let name):
            writer.write(0 as UInt8); writer.write(tag: role); writer.write(term); writer.write(name)
        case .committed(let index):
            writer.write(1 as UInt8); writer.write(index)
        case .coordinating(let transaction):
            writer.write(2 as UInt8); writer.write(transaction)
        case .decided(let transaction, let commit):
            writer.write(3 as UInt8); writer.write(transaction); writer.write(commit)
        case .note(let kind, let detail):
            writer.write(4 as UInt8); writer.write(kind); writer.write(detail)
        case .violation(let violation):
            writer.write(5 as UInt8); writer.write(tag: violation.rule); writer.write(violation.detail)
        case .prepared(let transaction, let key):
            writer.write(6 as UInt8); writer.write(transaction); writer.write(key)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .role(try reader.readTag(Role.self, "role"), term: try reader.readUInt64(), name: try reader.readString())
        case 1: self = .committed(try reader.readNonNegativeInt("commit index"))
        case 2: self = .coordinating(transaction: try reader.readUInt64())
        case 3: self = .decided(transaction: try reader.readUInt64(), commit: try reader.readBool())
        case 4: self = .note(kind: try reader.readString(), detail: try reader.readString())
        case 5: self = .violation(SafetyViolation(try reader.readTag(SafetyRule.self, "safety rule"), try reader.readString()))
        case 6: self = .prepared(transaction: try reader.readUInt64(), key: try reader.readString())
        default: throw .invalid("event tag", offset: start)
        }
    }

    public var byteCount: Int {
        switch self {
        case .role(_, _, let name): 10 + WireSize.string(name)
        case .committed, .coordinating: 9
        case .decided: 10
        case .note(let kind, let detail): 1 + WireSize.string(kind) + WireSize.string(detail)
        case .violation(let violation): 2 + WireSize.string(violation.detail)
        case .prepared(_, let key): 9 + WireSize.string(key)
        }
    }
}
