import ConsensusCore
import Glibc
import RESP
import Runtime

/// A blocking Redis-protocol client, for the tools that talk to nodes (`conlab cluster up` waits
/// for `PING`, `status` reads `INFO`) and for tests. One socket, one thread, every call bounded by
/// `timeout`; RESP2 replies only (it never sends `HELLO 3`).
public final class RESPClient {
    /// A reply as RESP2 has them.
    public enum Reply: Hashable, Sendable {
        case simple(String)
        case error(String)
        case integer(Int64)
        /// `nil`: the null bulk string (a missing key).
        case bulk([UInt8]?)
        case array([Reply]?)

        /// The text of a simple or bulk string.
        public var text: String? {
            switch self {
            case .simple(let text): text
            case .bulk(let bytes?): String(decoding: bytes, as: UTF8.self)
            default: nil
            }
        }
    }

    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let address: SocketAddress
    private let stream: TCPStream
    private var reader = ReplyReader()

    /// Connects to `address`; `timeout` bounds the connect and each later send and receive.
    public init(connectingTo address: SocketAddress, timeout: TimeSpan) throws(Failure) {
        self.address = address
        do { stream = try TCPStream(connectingTo: address, timeout: timeout) } catch { throw Failure(description: error.description) }
    }

    /// Connects, then authenticates with `password` when one is given (a node with `requirepass`).
    public convenience init(connectingTo address: SocketAddress, timeout: TimeSpan, password: [UInt8]?) throws(Failure) {
        try self.init(connectingTo: address, timeout: timeout)
        guard let password else { return }
        var bytes: [UInt8] = []
        RESPValue.array([.bulk("AUTH"), .bulk(password)]).encode(into: &bytes, version: .resp2)
        try send(bytes: bytes)
        let reply = try receive()
        guard reply == .simple("OK") else { throw Failure(description: "AUTH at \(address) answered \(reply)") }
    }

    /// Sends one command and waits for its reply.
    public func call(_ arguments: String...) throws(Failure) -> Reply { try call(arguments) }

    /// Sends one command, given as its arguments, and waits for its reply.
    public func call(_ arguments: [String]) throws(Failure) -> Reply {
        try send([arguments])
        return try receive()
    }

    /// Sends commands back to back without waiting (pipelining); `receive()` their replies in order.
    public func send(_ commands: [[String]]) throws(Failure) {
        var bytes: [UInt8] = []
        for arguments in commands { RESPValue.array(arguments.map { RESPValue.bulk($0) }).encode(into: &bytes, version: .resp2) }
        try send(bytes: bytes)
    }

    /// Sends `bytes` as they are (a test sends what no client should).
    public func send(bytes: [UInt8]) throws(Failure) {
        do { try stream.write(bytes) } catch { throw Failure(description: error.description) }
    }

    /// The next reply.
    public func receive() throws(Failure) -> Reply {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            if let reply = try reader.next() { return reply }
            let count: Int
            do { count = try stream.read(into: &chunk) } catch { throw Failure(description: error.description) }
            guard count > 0 else { throw Failure(description: "\(address) closed the connection") }
            reader.append(chunk[..<count])
        }
    }
}

/// Cuts RESP2 replies out of the bytes received so far. The bytes come from a peer: a length or a
/// nesting they announce is bounded before it is used, so no reply traps or overflows the stack.
package struct ReplyReader: Sendable {
    /// The longest bulk string accepted: Redis's own limit (`proto-max-bulk-len`, 512 MiB). A longer
    /// announced length is an error, not a wait for bytes no client holds (near `Int64.max`, an overflow).
    static let maximumBulkLength: Int64 = 512 << 20
    /// How deep arrays may nest (the replies a client asks for nest at most twice); the parse is
    /// recursive, so an unbounded nesting would overflow the thread's stack.
    static let maximumDepth = 32

    private var bytes: [UInt8] = []
    private var start = 0

    package init() {}

    package mutating func append(_ more: ArraySlice<UInt8>) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: more)
    }

    /// The next whole reply, or `nil` until more bytes arrive.
    package mutating func next() throws(RESPClient.Failure) -> RESPClient.Reply? {
        var cursor = start
        guard let reply = try parse(at: &cursor) else { return nil }
        start = cursor
        return reply
    }

    private func parse(at cursor: inout Int, depth: Int = 0) throws(RESPClient.Failure) -> RESPClient.Reply? {
        guard cursor < bytes.count, let end = lineEnd(from: cursor) else { return nil }
        let text = String(decoding: bytes[(cursor + 1)..<end], as: UTF8.self)
        var next = end + 2
        let reply: RESPClient.Reply
        switch bytes[cursor] {
        case UInt8(ascii: "+"): reply = .simple(text)
        case UInt8(ascii: "-"): reply = .error(text)
        case UInt8(ascii: ":"): reply = .integer(try number(text))
        case UInt8(ascii: "$"):
            let length = try number(text)
            guard length <= Self.maximumBulkLength else {
                throw RESPClient.Failure(description: "a bulk reply of \(length) bytes, beyond the \(Self.maximumBulkLength >> 20) MiB limit")
            }
            if length < 0 {
                reply = .bulk(nil)
            } else {
                guard bytes.count >= next + Int(length) + 2 else { return nil }
                reply = .bulk(Array(bytes[next..<(next + Int(length))]))
                next += Int(length) + 2
            }
        case UInt8(ascii: "*"):
            let count = try number(text)
            guard depth < Self.maximumDepth else {
                throw RESPClient.Failure(description: "arrays nested deeper than \(Self.maximumDepth) levels")
            }
            if count < 0 {
                reply = .array(nil)
            } else {
                var items: [RESPClient.Reply] = []
                for _ in 0..<count {
                    guard let item = try parse(at: &next, depth: depth + 1) else { return nil }
                    items.append(item)
                }
                reply = .array(items)
            }
        default:
            throw RESPClient.Failure(description: "not a RESP2 reply: type byte \(bytes[cursor])")
        }
        cursor = next
        return reply
    }

    private func lineEnd(from index: Int) -> Int? {
        var position = index
        while position + 1 < bytes.count {
            if bytes[position] == 13 && bytes[position + 1] == 10 { return position }
            position += 1
        }
        return nil
    }

    private func number(_ text: String) throws(RESPClient.Failure) -> Int64 {
        guard let value = Int64(text) else { throw RESPClient.Failure(description: "not a RESP2 number: \"\(text)\"") }
        return value
    }
}
