/// One HTTP/1.1 response as `HTTPResponseParser` cuts it out of a stream.
package struct HTTPResponse: Hashable, Sendable {
    struct Header: Hashable, Sendable {
        var name: String
        var value: String
    }

    package var status: Int
    var reason: String
    var headers: [Header]
    /// The body with any chunked framing removed.
    package var body: [UInt8]
    /// Whether the server ends the connection after this response (`Connection: close`, an
    /// HTTP/1.0 answer without keep-alive, or a body that ends where the connection does): the
    /// next request needs a new connection.
    var closesConnection: Bool

    /// The values of the headers named `name` (compared without regard to case, as HTTP does),
    /// each list split at its commas: `Connection: keep-alive, Upgrade` gives two.
    func values(of name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }
            .flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces) }
    }
}

/// Bytes that are not an HTTP/1.1 response, or one beyond the parser's limits.
struct HTTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    var description: String
}
