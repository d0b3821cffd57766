/// The five operations `conlab load` sends, named as `--mix` names them. They are the store's
/// commands (README § Backends); each target maps them onto its own protocol.
public enum OperationKind: String, CaseIterable, Hashable, Sendable {
    case put, get, cas, append, del
}

/// One request a client is about to send.
package struct Operation: Hashable, Sendable {
    package var kind: OperationKind
    package var key: String
    /// What `put` writes, what `cas` writes when the key holds `expected`, what `append` adds.
    /// Empty for `get` and `del`.
    package var value: String = ""
    /// The value `cas` expects the key to hold; nil: the key must be absent.
    package var expected: String?

    package init(kind: OperationKind, key: String, value: String = "", expected: String? = nil) {
        self.kind = kind
        self.key = key
        self.value = value
        self.expected = expected
    }
}
