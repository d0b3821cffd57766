import ConsensusCore

/// The state machine a replication protocol applies committed client requests to, as the protocol
/// sees it: it orders requests, the store decides what they do. The key-value store is one; a
/// server group of a sharded store (which answers only for the buckets its configuration gives it)
/// is another. A protocol holds `any ReplicatedStore` and never knows which (etcd-io/raft's split:
/// the library replicates, the application applies).
///
/// Deterministic like the protocols: equal states that apply equal requests at equal stamps end
/// equal, and equal states give equal snapshot bytes.
public protocol ReplicatedStore: Sendable {
    /// Applies a client request once, at `stamp` (the time the ordering node accepted it).
    mutating func apply(_ request: ClientRequest, at stamp: Instant) -> ReplyStatus
    /// The answer a read gets when served outside the log (ReadIndex, lease or local reads).
    func answer(read request: ClientRequest) -> ReplyStatus
    /// The answer `request` already has here, so that a retry is not ordered twice (see
    /// `KVStore.cachedReply(for:)`).
    func cachedReply(for request: ClientRequest) -> ReplyStatus?
    /// Moves the sessions' clock to `stamp` without a request (a no-op entry's stamp).
    mutating func advanceClock(to stamp: Instant)
    /// The whole state as bytes, restored by the recipe that made the store.
    func snapshot() -> [UInt8]
    /// Every key and value the store holds, for the lab's divergence checks.
    var data: [String: String] { get }
}

/// How a node makes its state machine: empty at a first start, or from a snapshot's bytes. Part
/// of a protocol's options (not a scenario option): every replica of a group must use the same.
/// Equal when their names are, which say which state machine and with what parameters.
public struct StateMachineRecipe: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    private let fresh: @Sendable (SessionOptions) -> any ReplicatedStore
    private let restore: @Sendable ([UInt8], SessionOptions) throws(BinaryDecodingError) -> any ReplicatedStore

    public init(_ name: String, fresh: @escaping @Sendable (SessionOptions) -> any ReplicatedStore,
                restore: @escaping @Sendable ([UInt8], SessionOptions) throws(BinaryDecodingError) -> any ReplicatedStore) {
        description = name
        self.fresh = fresh
        self.restore = restore
    }

    public func make(sessions: SessionOptions) -> any ReplicatedStore { fresh(sessions) }

    public func make(snapshot bytes: [UInt8], sessions: SessionOptions) throws(BinaryDecodingError) -> any ReplicatedStore {
        try restore(bytes, sessions)
    }

    /// The key-value store every backend serves.
    public static let keyValue = StateMachineRecipe("key-value", fresh: { KVStore(sessions: $0) },
                                                    restore: { bytes, sessions throws(BinaryDecodingError) in try KVStore(snapshot: bytes, sessions: sessions) })

    public static func == (a: StateMachineRecipe, b: StateMachineRecipe) -> Bool { a.description == b.description }
}

extension KVStore: ReplicatedStore {
    public func answer(read request: ClientRequest) -> ReplyStatus { .ok(.value(read(request.command.key))) }
}
