/// Reads client commands out of a byte stream that arrives in pieces of any size.
///
/// A command is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or, when the first
/// byte is not `*`, an inline line split at blanks (`GET k\r\n`); Redis decides the same way.
/// Feed bytes with `append(_:)`, then call `next()` until it returns `nil` (a command is still
/// incomplete); commands come out in order, so pipelining needs nothing more. `*0` and `*-1` and
/// empty inline lines are no commands, as in Redis: they yield nothing.
///
/// The parser works on bytes and keeps only what it has not handed out yet; a bulk string is
/// copied once, out of the buffer into its argument, when all of it has arrived. A declared length
/// is checked against `RESPLimits` and then only waited for: the buffer grows with the bytes that
/// come, never with what a header promises. Malformed input throws a `RESPProtocolError`; after
/// one, every further `next()` throws it again, because the stream has no recoverable position.
public struct RESPParser: Sendable {
    public let limits: RESPLimits

    /// Bytes received and not consumed yet start at `start`.
    private var buffer: [UInt8] = []
    private var start = 0
    /// What the bytes at `start` are expected to be.
    private var state = State.command
    /// The arguments of the multibulk command being read, and their total length.
    private var arguments: [[UInt8]] = []
    private var argumentBytes = 0
    /// How far an inline line has been searched for its end without finding it, so a line that
    /// arrives a byte at a time is scanned once, not once per byte.
    private var inlineScanned = 0
    private var failure: RESPProtocolError?

    private enum State: Sendable {
        /// The start of a command: `*` or an inline line.
        case command
        /// `remaining` more arguments of a multibulk command, each starting with `$`.
        case arguments(remaining: Int)
        /// The body of a bulk string of `length` bytes, then CRLF; `remaining` arguments after it.
        case bulk(length: Int, remaining: Int)
    }

    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed by a complete command.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds bytes received from the client. (Concrete, not generic over sequences: a generic
    /// call from another module would copy the bytes one witness-table call at a time.)
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        guard failure == nil else { return }  // nothing will ever be read from them
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { append(bytes[...]) }

    /// The next complete command, or `nil` when more bytes are needed.
    public mutating func next() throws(RESPProtocolError) -> [[UInt8]]? {
        if let failure { throw failure }
        do {
            return try parseNext()
        } catch {
            failure = error
            throw error
        }
    }

    /// Adds `bytes` and returns every command they complete.
    public mutating func parse(_ bytes: ArraySlice<UInt8>) throws(RESPProtocolError) -> [[[UInt8]]] {
        append(bytes)
        var commands: [[[UInt8]]] = []
        while let command = try next() { commands.append(command) }
        return commands
    }

    public mutating func parse(_ bytes: [UInt8]) throws(RESPProtocolError) -> [[[UInt8]]] { try parse(bytes[...]) }

    private mutating func parseNext() throws(RESPProtocolError) -> [[UInt8]]? {
        while true {
            switch state {
            case .command:
                guard start < buffer.count else { return nil }
                if buffer[start] == ASCII.star {
                    guard try readMultibulkHeader() else { return nil }
                } else {
                    guard let line = try readInlineLine() else { return nil }
                    guard let command = InlineCommand.split(line) else { throw .unbalancedQuotes }
                    if command.isEmpty { continue }
                    guard command.count <= limits.maximumArguments else {
                        throw .tooManyArguments(count: Int64(command.count), limit: limits.maximumArguments)
                    }
                    return command
                }
            case .arguments(let remaining):
                if remaining == 0 {
                    state = .command
                    argumentBytes = 0
                    var command: [[UInt8]] = []
                    swap(&command, &arguments)
                    return command
                }
                guard try readBulkHeader(remaining: remaining) else { return nil }
            case .bulk(let length, let remaining):
                guard buffer.count - start >= length + 2 else { return nil }
                let end = start + length
                guard buffer[end] == ASCII.cr, buffer[end + 1] == ASCII.lf else { throw .missingCRLFAfterBulk(length: length) }
                arguments.append(Array(buffer[start..<end]))
                start = end + 2
                state = .arguments(remaining: remaining - 1)
            }
        }
    }

    /// Reads `*<count>\r\n`; false when it has not all arrived.
    private mutating func readMultibulkHeader() throws(RESPProtocolError) -> Bool {
        guard let (line, next) = countLine() else { return false }
        guard let count = ASCII.integer(line), count >= -1 else { throw .invalidMultibulkLength(line: Array(line)) }
        guard count <= limits.maximumArguments else { throw .tooManyArguments(count: count, limit: limits.maximumArguments) }
        start = next
        if count > 0 {
            state = .arguments(remaining: Int(count))
            arguments.reserveCapacity(min(Int(count), 16))
        }
        return true
    }

    /// Reads `$<length>\r\n`; false when it has not all arrived.
    private mutating func readBulkHeader(remaining: Int) throws(RESPProtocolError) -> Bool {
        guard start < buffer.count else { return false }
        guard buffer[start] == ASCII.dollar else { throw .expectedBulk(got: buffer[start]) }
        guard let (line, next) = countLine() else { return false }
        guard let length = ASCII.integer(line), length >= 0 else { throw .invalidBulkLength(line: Array(line)) }
        guard length <= limits.maximumBulkLength else { throw .bulkTooLong(length: length, limit: limits.maximumBulkLength) }
        let total = argumentBytes + Int(length)
        guard total <= limits.maximumCommandBytes else { throw .commandTooLarge(bytes: total, limit: limits.maximumCommandBytes) }
        argumentBytes = total
        start = next
        state = .bulk(length: Int(length), remaining: remaining)
        return true
    }

    /// The count after the type byte at `start` (its bytes, without CRLF) and where the next
    /// element starts; `nil` when the line has not all arrived. A byte that cannot belong to a
    /// count, or a count too long to be one, ends the search early and comes back as the line,
    /// so the caller refuses it without waiting for a CRLF that may never come.
    private func countLine() -> (ArraySlice<UInt8>, Int)? {
        let first = start + 1
        var position = first
        while position < buffer.count {
            let byte = buffer[position]
            if byte == ASCII.cr {
                guard position + 1 < buffer.count else { return nil }
                guard buffer[position + 1] == ASCII.lf else { return (buffer[first...position + 1], position + 2) }
                return (buffer[first..<position], position + 2)
            }
            guard ASCII.isDigit(byte) || byte == ASCII.minus, position - first < ASCII.maximumCountLength else {
                return (buffer[first...position], position + 1)
            }
            position += 1
        }
        return nil
    }

    /// The next inline line without its line end (`\n`, or `\r\n`), consumed; `nil` when its end
    /// has not arrived.
    private mutating func readInlineLine() throws(RESPProtocolError) -> ArraySlice<UInt8>? {
        let searchFrom = max(start, inlineScanned)
        guard let newline = buffer[searchFrom...].firstIndex(of: ASCII.lf) else {
            inlineScanned = buffer.count
            if buffer.count - start > limits.maximumInlineLength { throw .inlineTooLong(limit: limits.maximumInlineLength) }
            return nil
        }
        let end = newline > start && buffer[newline - 1] == ASCII.cr ? newline - 1 : newline
        guard end - start <= limits.maximumInlineLength else { throw .inlineTooLong(limit: limits.maximumInlineLength) }
        let line = buffer[start..<end]
        start = newline + 1
        inlineScanned = start
        return line
    }

    /// Drops consumed bytes from the front of the buffer once they are at least half of it, so
    /// each byte is moved a bounded number of times however the stream is cut.
    private mutating func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 << 10)
        } else if start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
        } else {
            return
        }
        inlineScanned = max(0, inlineScanned - start)
        start = 0
    }
}
