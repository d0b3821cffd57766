import ConsensusCore
import KVStore

/// A server group's state machine in the sharded store (eraft's shardkvserver, 6.824's shardkv):
/// the key-value store, answering only for the buckets the group's configuration gives it, and
/// moving buckets in and out by the `ShardControl` commands its log orders among the clients'.
///
/// Safety rests on two rules. A group adopts configuration n + 1 only when every bucket of n has
/// finished moving, so configurations are adopted one at a time, in order, by every group. And a
/// bucket leaving a group stops being served in the same log entry that adopts the configuration
/// (its data frozen from then on), while its new owner serves it only once it has installed that
/// frozen data: at no time do two groups accept writes for one bucket, and no acknowledged write is
/// left behind. The replica's clock and client sessions are the key-value store's.
public struct ShardStore: ReplicatedStore, Equatable {
    /// A classic mistake the lab plants on purpose (README § Planted bugs), so that a sharded run
    /// shows what the checker makes of it.
    public enum Bug: String, CaseIterable, Sendable {
        /// The correct store.
        case none
        /// A leaving bucket is still served until its release (the rule above broken: the old
        /// owner keeps taking writes after the export froze the data the new owner installs, so
        /// they vanish with the release, and its reads miss the new owner's writes).
        case serveWhileLeaving = "serve-while-leaving"
    }

    public let group: GroupID
    public let bug: Bug
    /// The configuration this group has adopted (version 0: no group owns anything).
    public private(set) var configuration: ShardConfiguration
    /// Per bucket, what this group holds of it.
    public private(set) var buckets: [BucketState]
    /// Every key of every bucket held here (serving or leaving), and the client sessions.
    private var store: KVStore
    /// Cross-shard transactions prepared here and not decided yet: their writes to this group.
    public private(set) var prepared: [String: [Command]] = [:]
    /// Keys a prepared transaction holds: no other write touches them until it is decided.
    private var locks: [String: String] = [:]
    /// Transactions decided here, committed (true) or aborted: a late or repeated PREPARE of one
    /// must not lock its keys again (presumed abort). Kept for the store's lifetime.
    private var decided: [String: Bool] = [:]
    /// Writes refused because a transaction held their key, by client and request number. The
    /// refusal says the write took no effect, so it must stay true: a copy of the same request
    /// ordered later (a retry's, sent again through another node) is refused too, never applied
    /// once the lock is gone. The session cannot hold it (it records results, and a refusal is
    /// none); forgotten once the client has finished with the request (its `ackedThrough`).
    private var refusedWhileLocked: [ClientID: Set<UInt64>] = [:]

    /// Every cross-shard transaction decided here: committed (true) or aborted.
    public var decisions: [String: Bool] { decided }

    public init(group: GroupID, buckets count: Int, sessions: SessionOptions, bug: Bug = .none) {
        self.group = group
        self.bug = bug
        configuration = .initial(buckets: count)
        buckets = Array(repeating: .absent, count: count)
        store = KVStore(sessions: sessions)
    }

    /// Makes the stores of `group`'s replicas, for a protocol's options.
    public static func recipe(group: GroupID, buckets count: Int, bug: Bug = .none) -> StateMachineRecipe {
        StateMachineRecipe("shard-group \(group) of \(count) buckets" + (bug == .none ? "" : " with bug \(bug.rawValue)"),
                           fresh: { ShardStore(group: group, buckets: count, sessions: $0, bug: bug) },
                           restore: { bytes, sessions throws(BinaryDecodingError) in
                               try ShardStore(snapshot: bytes, group: group, buckets: count, sessions: sessions, bug: bug)
                           })
    }

    public var data: [String: String] { store.data }

    public func bucket(of key: String) -> Bucket { Bucket.of(key: key, count: buckets.count) }

    // MARK: Clients

    public mutating func apply(_ request: ClientRequest, at stamp: Instant) -> ReplyStatus {
        if request.command.key == ShardControl.key {
            store.advanceClock(to: stamp)
            // The reserved key holds no data: anything but a control command is served by no group.
            guard let control = ShardControl(request.command, sessions: store.sessions.options) else { return .rejected(.wrongGroup) }
            return .ok(carryOut(control))
        }
        forgetRefusals(finishedBy: request)
        // A request applied here before its bucket left keeps its answer: "wrong group" says a
        // request took no effect, which a retry of an applied one must never be told.
        if let cached = cachedReply(for: request) {
            store.advanceClock(to: stamp)
            return cached
        }
        guard serves(bucket(of: request.command.key)) else {
            store.advanceClock(to: stamp)
            return .rejected(.wrongGroup)
        }
        // A prepared transaction holds the key until its decision: the write takes no effect.
        if !request.command.isRead, locks[request.command.key] != nil {
            store.advanceClock(to: stamp)
            refusedWhileLocked[request.client, default: []].insert(request.sequence)
            return .rejected(.unavailable)
        }
        return store.apply(request, at: stamp)
    }

    /// The client has finished with every request numbered up to its `ackedThrough`: their
    /// refusals need no keeping (a copy of one is `superseded` from now on).
    private mutating func forgetRefusals(finishedBy request: ClientRequest) {
        guard let numbers = refusedWhileLocked[request.client], numbers.contains(where: { $0 <= request.ackedThrough }) else { return }
        let kept = numbers.filter { $0 > request.ackedThrough }
        refusedWhileLocked[request.client] = kept.isEmpty ? nil : kept
    }

    public func answer(read request: ClientRequest) -> ReplyStatus {
        let key = request.command.key
        return key != ShardControl.key && serves(bucket(of: key)) ? store.answer(read: request) : .rejected(.wrongGroup)
    }

    /// Whether clients are served for `bucket`: only while it is `serving` (or, with the planted
    /// bug, also while it is leaving).
    private func serves(_ bucket: Bucket) -> Bool {
        switch buckets[bucket.index] {
        case .serving: true
        case .leaving: bug == .serveWhileLeaving
        case .pulling, .absent: false
        }
    }

    public func cachedReply(for request: ClientRequest) -> ReplyStatus? {
        if refusedWhileLocked[request.client]?.contains(request.sequence) == true { return .rejected(.unavailable) }
        return store.cachedReply(for: request)
    }

    public mutating func advanceClock(to stamp: Instant) { store.advanceClock(to: stamp) }

    // MARK: Moving buckets

    /// A control command's result: `done`, an export's handoff as a value (`nil`: released, so the
    /// new owner has it), or `ShardControl.notYet` with this group's configuration number when the
    /// command cannot apply yet (an adopt out of turn, or about a configuration not reached). A
    /// value, not a compare-and-set mismatch: over RESP both a mismatch and an absent value are a
    /// null reply, and a controller that took "not yet" for "released" would skip the move.
    private mutating func carryOut(_ control: ShardControl) -> CommandResult {
        let notYet = ShardControl.notYet(configuration.number)
        switch control {
        case .adopt(let next):
            if next.number <= configuration.number { return .done }
            guard next.number == configuration.number + 1, !buckets.contains(where: \.isMoving), prepared.isEmpty,
                  next.owners.count == buckets.count else { return notYet }
            adopt(next)
            return .done
        case .export(let bucket, let number):
            guard buckets.indices.contains(bucket.index) else { return .value(nil) }
            if configuration.number < number { return notYet }
            guard buckets[bucket.index] == .leaving(since: number) else { return .value(nil) }
            // The sessions go along so that a client's retry at the new owner gets its first answer;
            // not those a node minted for a connection: ids another cluster's nodes mint too, which
            // would answer one of the new owner's own connections with another client's reply.
            let sessions = store.sessions.keeping { !$0.isMintedByConnection }
            return .value(BucketHandoff(data: store.data.filter { self.bucket(of: $0.key) == bucket }, sessions: sessions).text)
        case .install(let bucket, let number, let handoff):
            guard buckets.indices.contains(bucket.index) else { return .done }
            if configuration.number < number { return notYet }
            guard case .pulling(number, _) = buckets[bucket.index] else { return .done }
            store.takeOver(handoff.data.filter { self.bucket(of: $0.key) == bucket }, sessions: handoff.sessions)
            buckets[bucket.index] = .serving
            return .done
        case .release(let bucket, let number):
            guard buckets.indices.contains(bucket.index), buckets[bucket.index] == .leaving(since: number) else { return .done }
            let count = buckets.count
            store.removeKeys { Bucket.of(key: $0, count: count) == bucket }
            buckets[bucket.index] = .absent
            return .done
        case .prepare(let transaction, let writes):
            return vote(transaction, writes)
        case .commit(let transaction):
            if let writes = prepared.removeValue(forKey: transaction) {
                for write in writes {
                    _ = store.execute(write)
                    locks[write.key] = nil
                }
            }
            decided[transaction] = true
            return .done
        case .abort(let transaction):
            for write in prepared.removeValue(forKey: transaction) ?? [] { locks[write.key] = nil }
            if decided[transaction] == nil { decided[transaction] = false }
            return .done
        }
    }

    /// Two-phase commit's first phase at this group (Gray & Lamport: a YES is a promise to commit
    /// if told to, so it is made only when every write can be applied and is locked until the
    /// decision). Votes YES (`done`) or NO (`ShardControl.no`, saying why): a key of a bucket not
    /// served here, a key another transaction holds, a compare-and-set that does not match now,
    /// or a transaction already decided.
    private mutating func vote(_ transaction: String, _ writes: [Command]) -> CommandResult {
        if prepared[transaction] != nil { return .done }
        if let commit = decided[transaction] { return commit ? .done : ShardControl.no("aborted") }
        for write in writes {
            guard !write.isRead, write.key != ShardControl.key, buckets[bucket(of: write.key).index] == .serving else { return ShardControl.no("wrong group") }
            if let holder = locks[write.key], holder != transaction { return ShardControl.no("locked") }
            if case .cas(let key, let expected, _) = write, store.read(key) != expected { return ShardControl.no("cas") }
        }
        prepared[transaction] = writes
        for write in writes { locks[write.key] = transaction }
        return .done
    }

    /// Moves to `next`: buckets gained from no owner are served at once (empty), buckets gained
    /// from another group wait for its data, buckets lost stop being served now.
    private mutating func adopt(_ next: ShardConfiguration) {
        for index in buckets.indices {
            let before = configuration.owners[index], after = next.owners[index]
            switch (before == group, after == group) {
            case (true, true): buckets[index] = .serving
            case (false, true): buckets[index] = before.map { .pulling(since: next.number, from: $0) } ?? .serving
            case (true, false): buckets[index] = .leaving(since: next.number)
            case (false, false): buckets[index] = .absent
            }
        }
        configuration = next
    }

    // MARK: Snapshots

    /// version u8 (1), configuration (text), per bucket its state, the prepared transactions (id,
    /// writes) and the decided ones (id, committed) in id order, the key-value store's snapshot,
    /// then — only while some are held — the writes refused under a lock (per client in id order,
    /// its request numbers in order).
    public func snapshot() -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(Self.snapshotVersion)
        writer.write(ConfigurationText.encode(configuration, tag: ""))
        for state in buckets {
            switch state {
            case .serving: writer.write(0 as UInt8)
            case .pulling(let since, let from): writer.write(1 as UInt8); writer.write(since); writer.write(from.rawValue)
            case .leaving(let since): writer.write(2 as UInt8); writer.write(since)
            case .absent: writer.write(3 as UInt8)
            }
        }
        writer.write(UInt32(prepared.count))
        for transaction in prepared.keys.sorted() {
            writer.write(transaction)
            writer.write(prepared[transaction]!)
        }
        writer.write(UInt32(decided.count))
        for transaction in decided.keys.sorted() {
            writer.write(transaction)
            writer.write(decided[transaction]!)
        }
        writer.write(store.snapshot())
        if !refusedWhileLocked.isEmpty {
            writer.write(UInt32(refusedWhileLocked.count))
            for client in refusedWhileLocked.keys.sorted() {
                let numbers = refusedWhileLocked[client]!.sorted()
                writer.write(client.rawValue)
                writer.write(UInt32(numbers.count))
                for number in numbers { writer.write(number) }
            }
        }
        return writer.bytes
    }

    public init(snapshot bytes: [UInt8], group: GroupID, buckets count: Int, sessions: SessionOptions, bug: Bug = .none) throws(BinaryDecodingError) {
        self.init(group: group, buckets: count, sessions: sessions, bug: bug)
        var reader = ByteReader(bytes)
        guard try reader.readByte() == Self.snapshotVersion else { throw .invalid("shard snapshot version", offset: 0) }
        guard let decoded = ConfigurationText.decode(try reader.readString()), decoded.version.owners.count == count else {
            throw .invalid("shard snapshot configuration", offset: reader.offset)
        }
        configuration = decoded.version
        for index in 0..<count {
            switch try reader.readByte() {
            case 0: buckets[index] = .serving
            case 1: buckets[index] = .pulling(since: try reader.readNonNegativeInt("since"), from: GroupID(try reader.readInt()))
            case 2: buckets[index] = .leaving(since: try reader.readNonNegativeInt("since"))
            case 3: buckets[index] = .absent
            default: throw .invalid("bucket state", offset: reader.offset - 1)
            }
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) {
            let transaction = try reader.readString()
            let writes = try reader.readArray(of: Command.self)
            prepared[transaction] = writes
            for write in writes { locks[write.key] = transaction }
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 5)) {
            let transaction = try reader.readString()
            decided[transaction] = try reader.readBool()
        }
        store = try KVStore(snapshot: try reader.readBytes(), sessions: sessions)
        if !reader.isAtEnd {
            for _ in 0..<(try reader.readCount(minimumElementSize: 12)) {
                let client = ClientID(try reader.readInt())
                var numbers = Set<UInt64>()
                for _ in 0..<(try reader.readCount(minimumElementSize: 8)) { numbers.insert(try reader.readUInt64()) }
                guard !numbers.isEmpty else { throw .invalid("an empty list of refused writes", offset: reader.offset) }
                refusedWhileLocked[client] = numbers
            }
        }
        guard reader.isAtEnd else { throw .invalid("trailing bytes in shard snapshot", offset: reader.offset) }
    }

    static let snapshotVersion: UInt8 = 1
}
