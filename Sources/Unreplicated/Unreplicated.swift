import ConsensusCore
import KVStore

/// The baseline every comparison shows: one machine holds the data, no replication.
///
/// Node 1 (the *server*) applies every write to its KV store, logs it durably before answering,
/// and recovers by replaying its log. Every other node is a stateless front end that forwards
/// requests to the server and relays the answers. Its availability is that of one machine and of
/// the links to it; it never diverges and never loses a synced write.
public struct Unreplicated: ReplicationBackend {
    public static let protocolName = "unreplicated"

    /// Encoded as a tag byte (0 forward, 1 answer), then the `ClientRequest` or `ClientReply`.
    public enum Message: WireMessage, Hashable {
        /// A front end passes a client request to the server.
        case forward(ClientRequest)
        /// The server's answer, relayed by the front end to the client.
        case answer(ClientReply)

        public enum Kind: String, CaseIterable, Sendable { case forward = "FORWARD", answer = "ANSWER" }

        public var kind: Kind {
            switch self {
            case .forward: .forward
            case .answer: .answer
            }
        }

        public func encode(to writer: inout ByteWriter) {
            switch self {
            case .forward(let request): writer.write(0 as UInt8); request.encode(to: &writer)
            case .answer(let reply): writer.write(1 as UInt8); reply.encode(to: &writer)
            }
        }

        public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
            let start = reader.offset
            switch try reader.readByte() {
            case 0: self = .forward(try ClientRequest(from: &reader))
            case 1: self = .answer(try ClientReply(from: &reader))
            default: throw .invalid("unreplicated message tag", offset: start)
            }
        }

        /// The encoded length, computed without encoding.
        public var byteCount: Int {
            switch self {
            case .forward(let request): 1 + request.byteCount
            case .answer(let reply): 1 + reply.byteCount
            }
        }
    }

    /// The server logs each applied write; there is no other durable metadata.
    public struct HardState: BinaryCodable, Sendable, Equatable {
        public func encode(to writer: inout ByteWriter) {}
        public init(from reader: inout ByteReader) throws(BinaryDecodingError) {}
    }

    /// A write as the server applied it: the request and the server's clock, at which a restart
    /// replays it (so sessions expire after the restart where they would have without it).
    public typealias Entry = StampedRequest

    /// The server's one setting: its client sessions (`sessionTimeout`, `sessionResults`).
    public struct Options: SessionBackendOptions {
        public var sessions = SessionOptions()

        public init() {}

        public static let documentation = SessionOptions.documentation

        public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
            guard try sessions.set(name, to: value) else { throw OptionError.unknown(name, known: Self.documentation) }
        }
    }

    package let id: NodeID
    package let server: NodeID
    package private(set) var store: KVStore
    private var nextIndex: LogIndex

    public init(id: NodeID, cluster: [NodeID], options: Options, recovered: RecoveredState<StampedRequest, HardState>, seed: UInt64) {
        self.id = id
        server = cluster.min()!
        store = KVStore(sessions: options.sessions)
        for write in recovered.entries { _ = store.apply(write.request, at: write.stamp) }
        nextIndex = recovered.lastIndex + 1
    }

    public var nextDeadline: Instant? { nil }

    public var leadership: Leadership? { nil }

    public mutating func step(_ input: Input<Message>, at now: Instant, into out: inout Effects<Unreplicated>) {
        switch input {
        case .client(let request):
            if id == server {
                out.reply(serve(request, at: now, into: &out))
            } else {
                out.send(.forward(request), to: server)
            }
        case .receive(let from, .forward(let request)):
            guard id == server else { return }
            out.send(.answer(serve(request, at: now, into: &out)), to: from)
        case .receive(_, .answer(let reply)):
            out.reply(reply)
        case .tick:
            break
        }
    }

    /// Applies a request at the server. A write that changes state is logged first; the driver
    /// syncs the log before the answer leaves, so an acknowledged write survives a crash.
    private mutating func serve(_ request: ClientRequest, at now: Instant, into out: inout Effects<Unreplicated>) -> ClientReply {
        if case .get(let key) = request.command { return ClientReply(to: request, .ok(.value(store.read(key)))) }
        if let cached = store.cachedReply(for: request) { return ClientReply(to: request, cached) }
        out.persist(.append(firstIndex: nextIndex, entries: [StampedRequest(request, at: now)]))
        nextIndex += 1
        return ClientReply(to: request, store.apply(request, at: now))
    }
}
