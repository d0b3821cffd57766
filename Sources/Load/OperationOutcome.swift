/// How one operation ended, as the client saw it.
package enum OperationOutcome: Hashable, Sendable {
    /// The target answered and the operation did what it asks (a `get` of a missing key, a `cas`
    /// whose expected value did not match: the target did its job; `Result` says which).
    case ok(Result)
    /// The target refused, timed out, or the bytes were not an answer. `kind` is what the summary
    /// counts by (`TIMEOUT`, `CLUSTERDOWN`, `HTTP 503`, `connection`, `protocol`); `message` is
    /// the first one of its kind, shown as an example.
    case failed(kind: String, message: String)

    package enum Result: Hashable, Sendable {
        case done
        /// What a `get` read; `nil` when the key holds nothing.
        case value(String?)
        /// A `cas` whose expected value was not the key's.
        case casMismatch
    }

    /// A transport failure: the connection is dropped and the client connects again.
    static func connection(_ message: String) -> OperationOutcome { .failed(kind: "connection", message: message) }
    /// Bytes that are no answer: the stream's state is unknown, so the connection is dropped too.
    static func protocolError(_ message: String) -> OperationOutcome { .failed(kind: "protocol", message: message) }

    package var isOK: Bool {
        if case .ok = self { return true }
        return false
    }
}
