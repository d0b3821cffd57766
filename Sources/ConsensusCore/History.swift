/// One client operation as the history records it: the checker's input, one line of `history.jsonl`.
public struct HistoryOperation: Hashable, Sendable {
    /// Unique in a history; assigned in invocation order.
    public var id: Int
    public var client: ClientID
    /// The node the client is pinned to.
    public var node: NodeID
    public var command: Command
    public var invoke: Instant
    /// `nil` when the outcome is indeterminate.
    public var complete: Instant?
    public var outcome: Outcome

    public init(id: Int, client: ClientID, node: NodeID, command: Command, invoke: Instant, complete: Instant?, outcome: Outcome) {
        self.id = id
        self.client = client
        self.node = node
        self.command = command
        self.invoke = invoke
        self.complete = complete
        self.outcome = outcome
    }
}

/// How an operation ended, from the client's point of view.
public enum Outcome: Hashable, Sendable {
    /// It took effect (a read: it was served) with this result.
    case ok(CommandResult)
    /// It definitely took no effect: a compare-and-set that did not match (`casMismatch`), or a
    /// request the system refused or aborted (`refused`).
    case fail(FailureKind)
    /// No answer before the client's deadline: it may or may not have taken effect, at any time
    /// after invocation.
    case indeterminate

    public var name: String {
        switch self {
        case .ok: "ok"
        case .fail: "fail"
        case .indeterminate: "indeterminate"
        }
    }
}

public enum FailureKind: String, Hashable, Sendable {
    /// A compare-and-set compared and found another value: the system answered, nothing changed.
    case casMismatch = "cas-mismatch"
    /// The system refused or aborted the request: it was not served.
    case refused
}

extension HistoryOperation {
    /// The operation as one line of `history.jsonl` (DESIGN.md § Outputs), without the newline.
    ///
    /// For a get, `value` is what was read; for writes, the value written; `expected` only for cas.
    /// A failed operation carries `"error"`: `"cas-mismatch"` or `"refused"` (ignored by checkers
    /// that do not know it, and used by this lab's availability metric).
    public var jsonLine: String {
        var out = "{\"id\":\(id),\"client\":\(client.rawValue),\"node\":\(node.rawValue),\"op\":\"\(command.name)\",\"key\":"
        JSONValue.writeString(command.key, to: &out)
        switch command {
        case .get:
            out += ",\"value\":"
            if case .ok(.value(let read)) = outcome, let read { JSONValue.writeString(read, to: &out) } else { out += "null" }
        case .delete:
            break
        case .put(_, let value), .append(_, let value):
            out += ",\"value\":"
            JSONValue.writeString(value, to: &out)
        case .cas(_, let expected, let value):
            out += ",\"expected\":"
            if let expected { JSONValue.writeString(expected, to: &out) } else { out += "null" }
            out += ",\"value\":"
            JSONValue.writeString(value, to: &out)
        }
        out += ",\"invoke_us\":\(invoke.microseconds),\"complete_us\":"
        out += complete.map { String($0.microseconds) } ?? "null"
        // A cas answered "mismatch" changed nothing, whichever way it was recorded: written as
        // "ok" it would read back as a cas that took effect.
        let written: Outcome = if case .ok(.casMismatch) = outcome { .fail(.casMismatch) } else { outcome }
        out += ",\"outcome\":\"\(written.name)\""
        if case .fail(let kind) = written { out += ",\"error\":\"\(kind.rawValue)\"" }
        out += "}"
        return out
    }
}
