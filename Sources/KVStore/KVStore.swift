import ConsensusCore

/// The key-value state machine every backend applies committed commands to.
///
/// Deterministic by construction: it never iterates a dictionary to produce output except in sorted
/// key order, so a snapshot of equal states is equal bytes.
public struct KVStore: Sendable, Equatable {
    /// Current values by key.
    public internal(set) var data: [String: String] = [:]
    /// Exactly-once bookkeeping, per client.
    public internal(set) var sessions: [ClientID: ClientSession] = [:]

    public init() {}

    /// The value of `key`, as a read served without the log sees it.
    @inlinable public func read(_ key: String) -> String? { data[key] }

    /// Applies a client request once. A retry of the last applied request (same client, same
    /// sequence number) is answered with the first result and changes nothing; an older sequence
    /// number than the last applied one is refused as superseded (the client has moved on, so the
    /// request must not take effect late — at-most-once for operations the client gave up on).
    public mutating func apply(_ request: ClientRequest) -> ReplyStatus {
        if let session = sessions[request.client] {
            if request.sequence == session.lastSequence { return .ok(session.lastResult) }
            if request.sequence < session.lastSequence { return .rejected(.superseded) }
        }
        let result = execute(request.command)
        sessions[request.client] = ClientSession(lastSequence: request.sequence, lastResult: result)
        return .ok(result)
    }

    /// Whether `request` was already applied (its answer is cached) or superseded.
    public func cachedReply(for request: ClientRequest) -> ReplyStatus? {
        guard let session = sessions[request.client] else { return nil }
        if request.sequence == session.lastSequence { return .ok(session.lastResult) }
        if request.sequence < session.lastSequence { return .rejected(.superseded) }
        return nil
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

    /// What `command` would return if applied now, without applying it (used to answer a
    /// compare-and-set that a lock protocol validates before voting).
    public func evaluate(_ command: Command) -> CommandResult {
        var copy = self
        return copy.execute(command)
    }
}

/// The last request applied for one client and its result.
public struct ClientSession: Sendable, Equatable {
    public var lastSequence: UInt64
    public var lastResult: CommandResult
}
