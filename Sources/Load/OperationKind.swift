/// The five operations `conlab load` sends, named as `--mix` names them. They are the store's
/// commands (README § Backends); each target maps them onto its own protocol.
public enum OperationKind: String, CaseIterable, Hashable, Sendable {
    case put, get, cas, append, del
}

/// One request a client is about to send.
struct Operation: Hashable, Sendable {
    var kind: OperationKind
    var key: String
    /// What `put` writes, what `cas` writes when the key holds `expected`, what `append` adds.
    /// Empty for `get` and `del`.
    var value: String = ""
    /// The value `cas` expects the key to hold.
    var expected: String = ""
}
