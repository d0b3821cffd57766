import ConsensusCore
import Runtime
import Server

/// A client of Redis with Sentinel: it asks the Sentinels (its own node's first) which node is the
/// primary (`SENTINEL get-master-addr-by-name`), sends there, and asks again after a connection
/// failure or a refusal that says the node is no longer a writable primary (`READONLY`, …), as
/// Sentinel-aware client libraries do. Compare-and-set is a Lua script (`EVAL`), atomic on the
/// primary; append is `APPEND`. With `readsFromOwnNode` a GET goes to the client's own node,
/// primary or replica (the cheaper, stale read).
final class SentinelConnection: ExternalConnection {
    private let sentinels: [SocketAddress]
    private let own: SocketAddress
    private let master: String
    /// The client name it gives every connection (`CLIENT SETNAME`): how the lab's proxy tells
    /// which node's client it is.
    private let name: String
    private let readsFromOwnNode: Bool
    private let timeout: TimeSpan
    private var primary: RESPClient?
    private var local: RESPClient?

    /// Sets the key to ARGV[2] if it holds ARGV[1]: 1 if it did, 0 if not.
    static let compareAndSet = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0"
    /// Error replies that say the command was not executed, and the node is no primary to send to.
    static let refusals = ["READONLY", "LOADING", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN", "BUSY"]

    init(sentinels: [SocketAddress], own: SocketAddress, master: String, name: String, readsFromOwnNode: Bool, timeout: TimeSpan) {
        self.sentinels = sentinels
        self.own = own
        self.master = master
        self.name = name
        self.readsFromOwnNode = readsFromOwnNode
        self.timeout = timeout
    }

    func perform(_ command: Command) -> ExternalAnswer {
        if readsFromOwnNode, command.isRead {
            if local == nil {
                guard let client = connect(to: own) else { return .notApplied("no connection to \(own)") }
                local = client
            }
            return exchange(command, on: local!) { self.local = nil }
        }
        if primary == nil {
            guard let address = locatePrimary() else { return .notApplied("no Sentinel names a primary for \(master)") }
            guard let client = connect(to: address) else { return .notApplied("no connection to the primary at \(address)") }
            primary = client
        }
        return exchange(command, on: primary!) { self.primary = nil }
    }

    /// One command on `client`; `drop` forgets the connection after a failure or a refusal.
    private func exchange(_ command: Command, on client: RESPClient, drop: () -> Void) -> ExternalAnswer {
        let reply: RESPClient.Reply
        do {
            try client.send([Self.arguments(command)])
            reply = try client.receive()
        } catch {
            drop()
            return .unknown(error.description)
        }
        if case .error(let text) = reply {
            drop()
            let word = String(text.prefix { $0 != " " })
            return Self.refusals.contains(word) ? .notApplied(text) : .unknown(text)
        }
        guard let result = Self.result(reply, of: command) else {
            drop()
            return .unknown("\(command) answered \(String(describing: reply).prefix(200))")
        }
        return .ok(result)
    }

    static func arguments(_ command: Command) -> [String] {
        switch command {
        case .get(let key): ["GET", key]
        case .put(let key, let value): ["SET", key, value]
        case .append(let key, let value): ["APPEND", key, value]
        case .delete(let key): ["DEL", key]
        case .cas(let key, let expected?, let value): ["EVAL", compareAndSet, "1", key, expected, value]
        case .cas(let key, nil, let value): ["SET", key, value, "NX"]
        }
    }

    static func result(_ reply: RESPClient.Reply, of command: Command) -> CommandResult? {
        switch (command, reply) {
        case (.get, .bulk(let bytes)): .value(bytes.map { String(decoding: $0, as: UTF8.self) })
        case (.put, .simple("OK")), (.append, .integer), (.delete, .integer): .done
        case (.cas(_, _?, _), .integer(1)), (.cas(_, nil, _), .simple("OK")): .done
        case (.cas(_, _?, _), .integer(0)), (.cas(_, nil, _), .bulk(nil)): .casMismatch(current: nil)
        default: nil
        }
    }

    /// A connection that has given its name; nil when it could not be made or named.
    private func connect(to address: SocketAddress) -> RESPClient? {
        guard let client = try? RESPClient(connectingTo: address, timeout: timeout), (try? client.call("CLIENT", "SETNAME", name)) == .simple("OK") else {
            return nil
        }
        return client
    }

    /// The primary the first Sentinel that answers names; asking stops after `timeout` (Sentinels
    /// cut off each take that long), so an operation is not kept far past its own timeout.
    private func locatePrimary() -> SocketAddress? {
        let giveUp = MonotonicClock.now() + timeout
        for sentinel in sentinels where MonotonicClock.now() < giveUp {
            guard let client = connect(to: sentinel),
                  case .array(let items?)? = try? client.call("SENTINEL", "get-master-addr-by-name", master), items.count == 2,
                  let host = items[0].text, let port = items[1].text, let address = SocketAddress(parsing: "\(host):\(port)") else { continue }
            return address
        }
        return nil
    }
}
