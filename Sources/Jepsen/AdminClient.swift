import ConsensusCore
import Runtime
import Server

/// The runner's end of a node's admin channel (`AdminProtocol`): one blocking connection, proved
/// with the cluster secret, each command answered by one line.
final class AdminClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let stream: TCPStream
    private var reader = LineReader()

    /// Connects to `address` and proves the secret; `timeout` bounds every call.
    init(connectingTo address: SocketAddress, secret: [UInt8], timeout: TimeSpan) throws {
        do { stream = try TCPStream(connectingTo: address, timeout: timeout) } catch { throw Failure(description: error.description) }
        let greeting = try line()
        let words = greeting.split(separator: " ")
        guard words.count == 2, words[0] == AdminProtocol.greeting, let nonce = Hex.decode(words[1]) else {
            throw Failure(description: "\(address) is not a node's admin channel (it said \"\(greeting.prefix(80))\")")
        }
        _ = try call("proof " + Hex.encode(AdminProtocol.proof(secret: secret, nonce: nonce)))
    }

    /// Sends one command; its answer's payload (after `OK`). An `ERR` answer throws.
    @discardableResult
    func call(_ command: String) throws -> String {
        do { try stream.write(Array((command + "\n").utf8)) } catch { throw Failure(description: error.description) }
        let answer = try line()
        if answer == "OK" { return "" }
        if answer.hasPrefix("OK ") { return String(answer.dropFirst(3)) }
        throw Failure(description: "\(command.split(separator: " ").first ?? ""): \(answer)")
    }

    private func line() throws -> String {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            if let line = try reader.next() { return line }
            let count: Int
            do { count = try stream.read(into: &chunk) } catch { throw Failure(description: error.description) }
            guard count > 0 else { throw Failure(description: "\(stream.address) closed the admin connection") }
            reader.append(chunk[..<count])
        }
    }
}
