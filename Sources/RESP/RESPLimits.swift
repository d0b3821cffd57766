/// How much a client may make the parser hold. Every limit is checked when the bytes that would
/// break it arrive (a declared length against `maximumBulkLength` as soon as its CRLF is read), and
/// nothing is allocated for a declared length before the bytes themselves arrive, so a connection
/// that drains the parser after every read holds at most one incomplete command of at most
/// `maximumCommandBytes` plus its framing.
public struct RESPLimits: Hashable, Sendable {
    /// The longest bulk string (one argument). Redis allows 512 MiB (`proto-max-bulk-len`); the
    /// default here is 8 MiB because a value travels on: into a log entry replicated to every
    /// follower, into snapshots, into wire frames of at most 64 MiB (`WireFrame.maximumPayload`)
    /// that batch several entries. The lab's workloads write values of a few bytes to kilobytes;
    /// a longer one is refused as a protocol error, which ends the connection.
    public var maximumBulkLength: Int
    /// The most arguments one command may have. Redis has no limit of its own below 2³¹; every
    /// command this front end knows takes at most 9 (`CONLAB.SEQ s a SET k v IFEQ old`), and 1024
    /// leaves room for clients that probe with longer ones (an `MSET` of many keys is answered
    /// "unknown command", not cut off) while bounding the argument array a header can ask for.
    public var maximumArguments: Int
    /// The longest inline command line (`PING\r\n`), without its line end: 64 KiB as in Redis
    /// (`PROTO_INLINE_MAX_SIZE`). Inline commands are typed by people and sent by `redis-cli` in
    /// some modes; none is long.
    public var maximumInlineLength: Int
    /// The most bytes all arguments of one command may hold together: a key, a value and an
    /// expected value of `SET … IFEQ` at the bulk limit each, with room to spare (32 MiB), so
    /// `maximumArguments` bulks at `maximumBulkLength` cannot add up to gigabytes.
    public var maximumCommandBytes: Int

    public init(maximumBulkLength: Int = 8 << 20, maximumArguments: Int = 1024,
                maximumInlineLength: Int = 64 << 10, maximumCommandBytes: Int = 32 << 20) {
        precondition(maximumBulkLength >= 0 && maximumArguments >= 1 && maximumInlineLength >= 1 && maximumCommandBytes >= 0,
                     "RESP limits must be positive")
        self.maximumBulkLength = maximumBulkLength
        self.maximumArguments = maximumArguments
        self.maximumInlineLength = maximumInlineLength
        self.maximumCommandBytes = maximumCommandBytes
    }
}
