/// Cuts HTTP/1.1 responses out of the bytes a connection receives (RFC 9112 § 6): a status line,
/// headers, and a body framed by `Content-Length`, by `Transfer-Encoding: chunked` (etcd's gateway
/// sends bodies beyond a few KiB so), or by the end of the connection.
///
/// Incremental and total: feed it whatever `recv` returned, ask for the next response, and it
/// answers a response, "not yet", or an error; no input traps it, and it holds at most one
/// response, bounded by `maximumHeadBytes` and `maximumBodyBytes`. Interim 1xx responses are
/// skipped. Only responses to requests with a body are expected (never to `HEAD`).
struct HTTPResponseParser {
    /// The most bytes a status line and headers (or a chunked body's trailers) may take.
    static let maximumHeadBytes = 64 << 10
    /// The largest body accepted: well above the largest etcd value (1.5 MiB request limit by
    /// default), small enough that a lying length cannot make a client allocate gigabytes.
    static let maximumBodyBytes = 64 << 20
    /// The longest chunk-size line (hex size and any extensions).
    static let maximumChunkLine = 1024

    private enum State {
        /// Waiting for the status line and headers.
        case head
        /// Reading `remaining` more body bytes of a `Content-Length` body.
        case fixed(remaining: Int)
        /// Waiting for a chunk-size line.
        case chunkSize
        /// Reading `remaining` more bytes of a chunk, then its CRLF.
        case chunkData(remaining: Int)
        /// After the last chunk: trailer lines until an empty one.
        case trailers
        /// A body without length: everything until the connection ends.
        case untilClose
    }

    private var bytes: [UInt8] = []
    /// Where the unconsumed bytes begin.
    private var start = 0
    private var state = State.head
    /// The response being read, once its head is parsed.
    private var response: HTTPResponse?

    /// Adds bytes received from the connection.
    mutating func append<Bytes: Collection<UInt8>>(_ more: Bytes) {
        if start > 0 {
            bytes.removeFirst(start)
            start = 0
        }
        bytes.append(contentsOf: more)
    }

    /// The next complete response, or `nil` until more bytes arrive.
    mutating func next() throws(HTTPParseError) -> HTTPResponse? {
        while true {
            switch state {
            case .head:
                guard let head = try takeHead() else { return nil }
                if (100..<200).contains(head.status) { continue }
                response = head
                try beginBody(of: head)
            case .fixed(let remaining):
                let count = min(remaining, bytes.count - start)
                takeBody(count)
                if count < remaining { state = .fixed(remaining: remaining - count); return nil }
                return complete()
            case .chunkSize:
                guard let line = try takeLine(limit: Self.maximumChunkLine, what: "chunk-size line") else { return nil }
                let size = try Self.chunkSize(line)
                guard size <= Self.maximumBodyBytes - response!.body.count else { throw tooLong() }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = min(remaining, bytes.count - start)
                takeBody(count)
                if count < remaining { state = .chunkData(remaining: remaining - count); return nil }
                guard bytes.count - start >= 2 else { state = .chunkData(remaining: 0); return nil }
                guard bytes[start] == 13, bytes[start + 1] == 10 else { throw HTTPParseError(description: "a chunk not followed by CRLF") }
                start += 2
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine(limit: Self.maximumHeadBytes, what: "trailer") else { return nil }
                if line.isEmpty { return complete() }
            case .untilClose:
                guard bytes.count - start <= Self.maximumBodyBytes - response!.body.count else { throw tooLong() }
                takeBody(bytes.count - start)
                return nil
            }
        }
    }

    /// The connection ended: the response whose body runs until the end, if one was being read.
    /// Ending anywhere else in a response is an error; between responses it is not.
    mutating func finish() throws(HTTPParseError) -> HTTPResponse? {
        switch state {
        case .untilClose:
            _ = try next()
            return complete()
        case .head where bytes.count == start:
            return nil
        default:
            throw HTTPParseError(description: "the connection ended inside a response")
        }
    }

    // MARK: Pieces

    private mutating func complete() -> HTTPResponse {
        state = .head
        defer { response = nil }
        return response!
    }

    private mutating func takeBody(_ count: Int) {
        response!.body.append(contentsOf: bytes[start..<(start + count)])
        start += count
    }

    private func tooLong() -> HTTPParseError {
        HTTPParseError(description: "a body longer than \(Self.maximumBodyBytes >> 20) MiB")
    }

    /// The next line without its CRLF, or `nil` until it is whole; longer than `limit` is an error.
    private mutating func takeLine(limit: Int, what: String) throws(HTTPParseError) -> [UInt8]? {
        var index = start
        while index + 1 < bytes.count, !(bytes[index] == 13 && bytes[index + 1] == 10) {
            guard index - start < limit else { throw HTTPParseError(description: "a \(what) longer than \(limit) bytes") }
            index += 1
        }
        guard index + 1 < bytes.count else {
            guard bytes.count - start <= limit else { throw HTTPParseError(description: "a \(what) longer than \(limit) bytes") }
            return nil
        }
        defer { start = index + 2 }
        return Array(bytes[start..<index])
    }

    /// The status line and headers, once the empty line that ends them has arrived.
    private mutating func takeHead() throws(HTTPParseError) -> HTTPResponse? {
        var cursor = start
        var lines: [[UInt8]] = []
        while true {
            var end = cursor
            while end + 1 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10) { end += 1 }
            guard end + 1 < bytes.count else {
                guard bytes.count - start <= Self.maximumHeadBytes else { throw headTooLong() }
                return nil
            }
            guard end + 2 - start <= Self.maximumHeadBytes else { throw headTooLong() }
            if end == cursor { cursor = end + 2; break }
            lines.append(Array(bytes[cursor..<end]))
            cursor = end + 2
        }
        guard let statusLine = lines.first else { throw HTTPParseError(description: "an empty line where a status line belongs") }
        var response = try Self.statusLine(statusLine)
        for line in lines.dropFirst() { response.headers.append(try Self.header(line)) }
        start = cursor
        return response
    }

    private func headTooLong() -> HTTPParseError {
        HTTPParseError(description: "a status line and headers longer than \(Self.maximumHeadBytes >> 10) KiB")
    }

    /// Decides how the body of `head` is framed.
    private mutating func beginBody(of head: HTTPResponse) throws(HTTPParseError) {
        let connection = Set(head.values(of: "Connection").map { $0.lowercased() })
        response!.closesConnection = connection.contains("close") || (response!.closesConnection && !connection.contains("keep-alive"))
        if head.status == 204 || head.status == 304 { state = .fixed(remaining: 0); return }
        let codings = head.values(of: "Transfer-Encoding").map { $0.lowercased() }
        if let last = codings.last {
            guard last == "chunked", codings.count == 1 else {
                throw HTTPParseError(description: "transfer coding '\(codings.joined(separator: ", "))' (only chunked is understood)")
            }
            state = .chunkSize
            return
        }
        let lengths = Set(head.values(of: "Content-Length"))
        guard lengths.count <= 1 else { throw HTTPParseError(description: "conflicting Content-Length headers") }
        if let text = lengths.first {
            guard !text.isEmpty, text.count <= 12, text.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(text) else {
                throw HTTPParseError(description: "Content-Length '\(text.prefix(40))' is not a length")
            }
            guard length <= Self.maximumBodyBytes else { throw tooLong() }
            state = .fixed(remaining: length)
            return
        }
        response!.closesConnection = true
        state = .untilClose
    }

    /// `HTTP/1.1 200 OK`: the version must be 1.x, the status three digits, the reason may be empty.
    static func statusLine(_ line: [UInt8]) throws(HTTPParseError) -> HTTPResponse {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
              parts[1].count == 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let status = Int(parts[1]), status >= 100 else {
            throw HTTPParseError(description: "not an HTTP/1.x status line: \"\(text.prefix(80))\"")
        }
        return HTTPResponse(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: [], body: [],
                            closesConnection: parts[0] == "HTTP/1.0")
    }

    /// `Name: value`, the value without surrounding spaces. A line folded onto the previous one
    /// (obsolete since RFC 7230) or without a colon is an error.
    static func header(_ line: [UInt8]) throws(HTTPParseError) -> HTTPResponse.Header {
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex,
              !text[..<colon].contains(where: { $0 == " " || $0 == "\t" }) else {
            throw HTTPParseError(description: "not a header line: \"\(text.prefix(80))\"")
        }
        return HTTPResponse.Header(name: String(text[..<colon]), value: String(text[text.index(after: colon)...]).trimmingSpaces)
    }

    /// The size of a chunk-size line (`1a2f`, optionally `;extension`): hexadecimal, at most 8 digits.
    static func chunkSize(_ line: [UInt8]) throws(HTTPParseError) -> Int {
        let text = String(decoding: line, as: UTF8.self)
        let digits = text.prefix { $0 != ";" }.trimmingSpaces
        guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy(\.isHexDigit), let size = Int(digits, radix: 16) else {
            throw HTTPParseError(description: "not a chunk size: \"\(text.prefix(40))\"")
        }
        return size
    }
}

extension StringProtocol {
    /// Without the spaces and tabs HTTP allows around values.
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
