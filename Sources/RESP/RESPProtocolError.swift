/// Input that is not a well-formed command stream, or that breaks a `RESPLimits` limit. After one,
/// the parser has lost its place in the stream, so the connection answers with the error (as
/// `RESPValue.error(error.replyText)`) and closes, as Redis does. Each description starts with
/// Redis's own wording and goes on to say what exactly was wrong.
public enum RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `*` followed by something other than a count and CRLF, or by a negative count other than
    /// the null array `*-1`. `line` is what followed the `*`, as received (at most a few bytes).
    case invalidMultibulkLength(line: [UInt8])
    /// A command declared more arguments than `RESPLimits.maximumArguments`.
    case tooManyArguments(count: Int64, limit: Int)
    /// Inside a command, an argument started with this byte instead of `$`.
    case expectedBulk(got: UInt8)
    /// `$` followed by something other than a non-negative length and CRLF (`$-1`, the null bulk
    /// string, is no argument). `line` is what followed the `$`.
    case invalidBulkLength(line: [UInt8])
    /// A bulk string declared longer than `RESPLimits.maximumBulkLength`.
    case bulkTooLong(length: Int64, limit: Int)
    /// The arguments of one command add up to more than `RESPLimits.maximumCommandBytes`.
    case commandTooLarge(bytes: Int, limit: Int)
    /// The bytes after a bulk string of `length` bytes were not CRLF: the declared length is wrong.
    case missingCRLFAfterBulk(length: Int)
    /// An inline command line longer than `RESPLimits.maximumInlineLength`.
    case inlineTooLong(limit: Int)
    /// An inline command line with a quote that is not closed, or a closing quote followed by
    /// something other than a space.
    case unbalancedQuotes

    public var description: String {
        switch self {
        case .invalidMultibulkLength(let line):
            "Protocol error: invalid multibulk length: '*\(ASCII.describe(line))' is not a count from -1 up, followed by CRLF"
        case .tooManyArguments(let count, let limit):
            "Protocol error: invalid multibulk length: \(count) arguments exceed the limit of \(limit)"
        case .expectedBulk(let byte):
            "Protocol error: expected '$', got '\(ASCII.describe(byte))'"
        case .invalidBulkLength(let line):
            "Protocol error: invalid bulk length: '$\(ASCII.describe(line))' is not a length from 0 up, followed by CRLF"
        case .bulkTooLong(let length, let limit):
            "Protocol error: invalid bulk length: \(length) bytes exceed the limit of \(limit)"
        case .commandTooLarge(let bytes, let limit):
            "Protocol error: command too large: its arguments reach \(bytes) bytes, over the limit of \(limit)"
        case .missingCRLFAfterBulk(let length):
            "Protocol error: expected CRLF after a bulk string of \(length) bytes (the declared length is wrong)"
        case .inlineTooLong(let limit):
            "Protocol error: too big inline request: no line end within \(limit) bytes"
        case .unbalancedQuotes:
            "Protocol error: unbalanced quotes in request"
        }
    }

    /// The error reply's text, with Redis's `ERR` prefix.
    public var replyText: String { "ERR " + description }
}
