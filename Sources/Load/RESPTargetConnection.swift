import ConsensusCore
import Glibc
import Runtime
import Server

/// The operations as Redis commands, over `Server.RESPClient`: `SET`, `GET`, `SET key new IFEQ
/// old` (Redis 8.4's compare-and-set, which our nodes serve), `APPEND`, `DEL`.
final class RESPTargetConnection: KeyValueConnection {
    let address: SocketAddress
    let timeout: TimeSpan
    private var client: RESPClient?
    let retries = 0

    /// Connects now, so that a target that cannot be reached fails the start of the run.
    init(address: SocketAddress, timeout: TimeSpan) throws(RESPClient.Failure) {
        self.address = address
        self.timeout = timeout
        client = try RESPClient(connectingTo: address, timeout: timeout)
    }

    func perform(_ operation: Operation) -> OperationOutcome {
        let client: RESPClient
        if let connected = self.client {
            client = connected
        } else {
            do throws(RESPClient.Failure) {
                client = try RESPClient(connectingTo: address, timeout: timeout)
                self.client = client
            } catch {
                usleep(reconnectPause)
                return .connection(error.description)
            }
        }
        do throws(RESPClient.Failure) {
            try client.send([Self.command(for: operation)])
            let outcome = Self.outcome(of: try client.receive(), to: operation.kind)
            if case .failed(kind: "protocol", _) = outcome { self.client = nil }
            return outcome
        } catch {
            self.client = nil
            return .connection(error.description)
        }
    }

    static func command(for operation: Operation) -> [String] {
        switch operation.kind {
        case .put: ["SET", operation.key, operation.value]
        case .get: ["GET", operation.key]
        case .cas: ["SET", operation.key, operation.value] + (operation.expected.map { ["IFEQ", $0] } ?? ["NX"])
        case .append: ["APPEND", operation.key, operation.value]
        case .del: ["DEL", operation.key]
        }
    }

    /// A reply read as the answer to `kind`. An error reply is counted by its first word, the
    /// Redis convention our nodes follow (`CLUSTERDOWN`, `TIMEOUT`, `TRYAGAIN`, `NOREPLICAS`,
    /// `ERR`); a reply of the wrong type is a protocol error.
    static func outcome(of reply: RESPClient.Reply, to kind: OperationKind) -> OperationOutcome {
        switch (kind, reply) {
        case (_, .error(let text)):
            let word = text.prefix { $0 != " " }
            return .failed(kind: word.isEmpty ? "ERR" : String(word.prefix(32)), message: text)
        case (.put, .simple("OK")), (.cas, .simple("OK")), (.append, .integer), (.del, .integer):
            return .ok(.done)
        case (.cas, .bulk(nil)):
            return .ok(.casMismatch)
        case (.get, .bulk(let bytes)):
            return .ok(.value(bytes.map { String(decoding: $0, as: UTF8.self) }))
        default:
            return .protocolError("\(kind.rawValue) answered \(String(describing: reply).prefix(200))")
        }
    }
}
