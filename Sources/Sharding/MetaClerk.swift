import ConsensusCore

/// A client of the metaserver when the metaserver is a replicated key-value store — a Raft group
/// (or any backend of the lab) running the ordinary store, not a special state machine.
///
/// Version n of the config table lives under the key `config/n` (version 0, the empty table, is
/// implicit). A version is written once, by a compare-and-set that expects the key absent, so the
/// chain can only grow and never changes behind a reader. A change reads forward to the latest
/// version, computes the next (`ShardConfiguration.applying`, the same pure function everywhere)
/// and creates the key of the next number; of two clerks racing for one number, one creates it
/// and the other reads it and tries the number after. This is how a version chain is kept on etcd
/// (a create-if-absent transaction), and it is linearizable because the store is.
///
/// A pure state machine like the protocols: `command` says what to send, `receive` takes what the
/// store answered and returns the result once there is one. A timed-out request is sent again (a
/// get says nothing; a create that may have happened is checked by reading the key back: the
/// version carries the change's tag).
public struct MetaClerk: Sendable {
    /// What a clerk is asked: the metaserver's own commands.
    public typealias Request = ConfigurationChain.Command

    private enum Phase: Equatable {
        /// Reading `config/n` for n = latest.number + 1, to find the latest version.
        case probing
        /// Reading the version asked for.
        case fetching(Int)
        /// Creating the next version.
        case creating(ShardConfiguration)
        /// The create timed out: reading the key back to see whose version it holds.
        case confirming(ShardConfiguration)
    }

    public let request: Request
    /// Names this change among all clerks' changes (the writer of a version).
    public let tag: String
    /// The latest version this clerk knows.
    public private(set) var latest: ShardConfiguration
    private let buckets: Int
    private var phase: Phase

    public init(_ request: Request, tag: String, buckets: Int, known: ShardConfiguration? = nil) {
        self.request = request
        self.tag = tag
        self.buckets = buckets
        latest = known ?? .initial(buckets: buckets)
        if case .query(let number?) = request { phase = .fetching(max(number, 0)) } else { phase = .probing }
    }

    public static func key(_ number: Int) -> String { "config/\(number)" }

    /// The request to send now.
    public var command: Command {
        switch phase {
        case .probing: .get(key: Self.key(latest.number + 1))
        case .fetching(let number): .get(key: Self.key(number))
        case .creating(let next): .cas(key: Self.key(next.number), expected: nil, value: ConfigurationText.encode(next, tag: tag))
        case .confirming(let next): .get(key: Self.key(next.number))
        }
    }

    /// What the clerk ends with: the version it made or was asked for, or why the change was refused.
    public enum Result: Equatable, Sendable {
        case version(ShardConfiguration)
        case refused(ConfigurationRefusal)
        /// A metaserver key held something that is not a version (written by something else).
        case unreadable(key: String, value: String)
    }

    /// Takes the store's answer to `command`; the result once the request is done, else `nil`
    /// (send `command` again).
    public mutating func receive(_ outcome: Outcome) -> Result? {
        if case .ok(.value(let text?)) = outcome, ConfigurationText.decode(text) == nil {
            guard case .get(let key) = command else { return nil }
            return .unreadable(key: key, value: text)
        }
        switch (phase, outcome) {
        case (.probing, .ok(.value(nil))):
            return reachedLatest()
        case (.probing, .ok(.value(let text?))), (.fetching, .ok(.value(let text?))):
            let (version, _) = Self.decoded(text)
            if case .fetching = phase { return .version(version) }
            latest = version
            return nil
        case (.fetching(0), .ok(.value(nil))):
            return .version(.initial(buckets: buckets))
        case (.fetching, .ok(.value(nil))):
            phase = .probing
            return nil
        case (.creating(let next), .ok(.done)):
            latest = next
            return .version(next)
        case (.creating, .fail(.casMismatch)), (.creating, .ok(.casMismatch)):
            phase = .probing
            return nil
        case (.creating(let next), .indeterminate):
            phase = .confirming(next)
            return nil
        case (.confirming(let next), .ok(.value(nil))):
            phase = .creating(next)
            return nil
        case (.confirming, .ok(.value(let text?))):
            let (version, writer) = Self.decoded(text)
            latest = version
            phase = .probing
            return writer == tag ? .version(version) : nil
        default:
            // Refused or timed out without effect on what is known: ask again.
            return nil
        }
    }

    private mutating func reachedLatest() -> Result? {
        switch request {
        case .query:
            return .version(latest)
        case .change(let change):
            switch latest.applying(change) {
            case .success(let next):
                phase = .creating(next)
                return nil
            case .failure(let refusal):
                return .refused(refusal)
            }
        }
    }

    /// A value `receive` checked is a version.
    private static func decoded(_ text: String) -> (ShardConfiguration, String) { ConfigurationText.decode(text)! }
}
