import ConsensusCore

/// The settings of the exactly-once bookkeeping (`SessionTable`): how long a client session lives
/// without requests and how many answers it keeps. They decide what a replicated state machine
/// forgets, so every replica of one store must use the same; a scenario sets them for every node
/// of a backend at once (`{"protocol": "raft", "options": {"sessionTimeout": "10m"}}`).
public struct SessionOptions: Hashable, Sendable {
    /// A session with no request for longer than this expires, measured by the stamps of the
    /// requests the store applies (Raft thesis §6.3), so every replica expires it at the same
    /// point of the log. An hour by default: far beyond any pause of a client that is still
    /// working, and beyond every retry window a run uses (the lab refuses a session timeout not
    /// longer than the workload's `timeout`, since a retry after expiry could be applied twice).
    public var timeout: TimeSpan = .seconds(3_600)
    /// Answers a session keeps for requests above the client's watermark: how many requests a
    /// client may have in flight and still get each one's first answer when it retries. Beyond
    /// it the oldest answer is dropped and the watermark raised past it, as if the client had
    /// acknowledged it: a retry of that request is refused `superseded`, never applied again.
    public var maxResults = 64

    public init() {}

    public static let documentation: [OptionDoc] = [
        OptionDoc("sessionTimeout", values: "duration", default: "\"60m\"",
                  "a client session with no request for this long expires, by the stamps of the node that orders requests; the client must start a new one"),
        OptionDoc("sessionResults", values: "integer ≥ 1", default: "64",
                  "answers a client session keeps for requests in flight; beyond it the oldest is dropped and its retries are refused as superseded"),
    ]

    /// Applies `name` if it is one of the session options; false if it is not.
    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) -> Bool {
        switch name {
        case "sessionTimeout":
            timeout = try value.durationOption(name)
            guard timeout > .zero else { throw OptionError(name, "must be longer than zero") }
        case "sessionResults": maxResults = try value.intOption(name, minimum: 1)
        default: return false
        }
        return true
    }
}

/// Options of a backend whose nodes keep client sessions (every backend: each applies client
/// requests exactly once). The lab reads `sessions` to check the timeout against the workload's.
public protocol SessionBackendOptions: BackendOptions {
    var sessions: SessionOptions { get }
}
