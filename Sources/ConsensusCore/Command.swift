/// One operation of the key-value front end that every backend offers.
public enum Command: Hashable, Sendable {
    case get(key: String)
    case put(key: String, value: String)
    case delete(key: String)
    case append(key: String, value: String)
    /// Compare-and-set: writes `value` if the current value equals `expected` (`nil`: the key is absent).
    case cas(key: String, expected: String?, value: String)

    public var key: String {
        switch self {
        case .get(let key), .put(let key, _), .delete(let key), .append(let key, _), .cas(let key, _, _): key
        }
    }

    /// Reads change nothing, so backends may serve them without replicating them (read modes).
    public var isRead: Bool { if case .get = self { true } else { false } }

    /// The operation's name in `history.jsonl`.
    public var name: String {
        switch self {
        case .get: "get"
        case .put: "put"
        case .delete: "delete"
        case .append: "append"
        case .cas: "cas"
        }
    }

    /// The value a write carries (`nil` for get and delete).
    public var writtenValue: String? {
        switch self {
        case .put(_, let value), .append(_, let value), .cas(_, _, let value): value
        case .get, .delete: nil
        }
    }
}

/// What applying a command to the state machine returned.
public enum CommandResult: Hashable, Sendable {
    /// A get: the value read, `nil` when the key is absent.
    case value(String?)
    /// A put, delete, append, or a compare-and-set that matched.
    case done
    /// A compare-and-set whose expected value did not match; it changed nothing.
    case casMismatch(current: String?)
}
