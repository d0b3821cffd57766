import ConsensusCore

/// The key-value state machine every backend applies committed commands to.
///
/// Deterministic by construction: it never iterates a dictionary to produce output except in sorted
/// key order, so a snapshot of equal states is equal bytes; and it never reads a clock — its time
/// is the stamps of the requests it applies.
public struct KVStore: Sendable, Equatable {
    /// Current values by key.
    public internal(set) var data: [String: String] = [:]
    /// Exactly-once bookkeeping, per client: the answers a client may still ask for again.
    public internal(set) var sessions: SessionTable<CommandResult>

    /// `options` must be the same on every replica of this store.
    public init(sessions options: SessionOptions) {
        sessions = SessionTable(options: options)
    }

    /// The value of `key`, as a read served without the log sees it.
    @inlinable public func read(_ key: String) -> String? { data[key] }

    /// Applies a client request once, at `stamp`, the time the node that ordered it accepted it
    /// (Raft thesis §6.3). A retry of an applied request is answered with its first result and
    /// changes nothing; a request the client had finished with is refused `superseded` (it never
    /// takes effect late); a client whose session expired is refused `sessionExpired`.
    public mutating func apply(_ request: ClientRequest, at stamp: Instant) -> ReplyStatus {
        switch sessions.admit(request, at: stamp) {
        case .cached(let result): return .ok(result)
        case .superseded: return .rejected(.superseded)
        case .expired: return .rejected(.sessionExpired)
        case .new(let slot):
            let result = execute(request.command)
            sessions.record(result, for: request, in: slot)
            return .ok(result)
        }
    }

    /// Moves the sessions' clock to `stamp` without a request (a Raft leader's no-op is stamped too).
    public mutating func advanceClock(to stamp: Instant) { sessions.advance(to: stamp) }

    /// The answer `request` already has here — its cached result, or `superseded` — so that a node
    /// can answer a retry without ordering it again. Never `sessionExpired`: a store that lags
    /// behind the log may not know a session yet, and only applying the request in log order may
    /// conclude it expired.
    public func cachedReply(for request: ClientRequest) -> ReplyStatus? {
        guard let session = sessions.sessions[request.client] else { return nil }
        if let result = session.record(for: request.sequence) { return .ok(result) }
        return request.sequence <= session.watermark ? .rejected(.superseded) : nil
    }

    /// Applies a command without session bookkeeping (used by tests and by backends that apply
    /// writes on behalf of no client).
    public mutating func execute(_ command: Command) -> CommandResult {
        switch command {
        case .get(let key):
            return .value(data[key])
        case .put(let key, let value):
            data[key] = value
            return .done
        case .delete(let key):
            data[key] = nil
            return .done
        case .append(let key, let value):
            data[key, default: ""] += value
            return .done
        case .cas(let key, let expected, let value):
            let current = data[key]
            guard current == expected else { return .casMismatch(current: current) }
            data[key] = value
            return .done
        }
    }

    /// Takes in keys and client sessions another store hands over (a bucket's new owner in a
    /// sharded store): the keys are set, the sessions merged (`SessionTable.merge`).
    public mutating func takeOver(_ handed: [String: String], sessions handedSessions: SessionTable<CommandResult>) {
        data.merge(handed) { _, new in new }
        sessions.merge(handedSessions)
    }

    /// Drops the keys `leaving` says go (a bucket handed over to another store).
    public mutating func removeKeys(where leaving: (String) -> Bool) {
        data = data.filter { !leaving($0.key) }
    }

    /// What `command` would return if applied now, without applying it (used to answer a
    /// compare-and-set that a lock protocol validates before voting).
    func evaluate(_ command: Command) -> CommandResult {
        var copy = self
        return copy.execute(command)
    }
}
