import ConsensusCore

/// One client connection, as pure state: bytes from the client go in (`receive`), requests for
/// the node come out; the node's answers go in (`deliver`, or `abandon` when the runtime gives up
/// waiting), reply bytes come out (`takeOutput`), always in the order the commands arrived, as
/// Redis clients require of a pipelined connection. Commands the connection answers itself
/// (`PING`, `HELLO`, …) are answered at once, or queued behind commands still waiting for the
/// cluster. The session the requests belong to is described in `RESP`.
public struct RESPConnection: Sendable {
    public struct Options: Hashable, Sendable {
        public var limits: RESPLimits
        /// The longest value a `SET` or `APPEND` may carry (1 MiB): a value is copied into a log
        /// entry on every replica and into snapshots; a longer one is refused with an error that
        /// names the limit, and the connection carries on. Values up to `limits.maximumBulkLength`
        /// get that error; longer ones are a protocol error.
        public var maximumValueBytes: Int
        /// The most commands one connection may have waiting for the cluster (1024). A pipelining
        /// client waits for its replies anyway; past this many, queueing more only adds latency,
        /// so further data commands are refused with an error that names the limit.
        public var maximumInFlight: Int
        /// What `CONFIG GET` reports. redis-benchmark asks for `save` and `appendonly` when it
        /// starts, prints them, and warns when they are missing.
        public var configuration: [String: String]
        /// Redis's `requirepass`: when set, a connection must `AUTH` (or `HELLO … AUTH`) with it
        /// before any other command but `QUIT`; `nil`, every connection is trusted (bind to
        /// loopback then).
        public var password: [UInt8]?

        public init(limits: RESPLimits = RESPLimits(), maximumValueBytes: Int = 1 << 20, maximumInFlight: Int = 1024,
                    configuration: [String: String] = ["save": "", "appendonly": "no"], password: [UInt8]? = nil) {
            self.limits = limits
            self.maximumValueBytes = maximumValueBytes
            self.maximumInFlight = maximumInFlight
            self.configuration = configuration
            self.password = password
        }
    }

    private struct RequestKey: Hashable, Sendable {
        var client: ClientID
        var sequence: UInt64
    }

    /// A command's place in the reply order: its reply bytes, or what it waits for.
    private enum Slot: Sendable {
        case ready([UInt8])
        /// The reply is encoded in `version`, the one in force when the command arrived.
        case waiting(client: ClientID, sequence: UInt64, command: Command, version: RESPVersion)
    }

    public let options: Options
    /// The reply protocol in force: RESP2 until `HELLO 3`.
    public private(set) var version = RESPVersion.resp2
    /// Set by `QUIT`, a protocol error, or the store expiring the connection's own session: no
    /// more input is read. Once `isFinished`, the runtime writes the output and closes.
    public private(set) var isClosing = false
    /// Whether the client may send commands: at once where no password is required, after a
    /// successful `AUTH` or `HELLO … AUTH` where one is.
    public private(set) var isAuthenticated: Bool
    /// The name `CLIENT SETNAME` or `HELLO … SETNAME` gave the connection.
    public private(set) var name: String?
    /// The serving node's state for `INFO`'s `consensus` section; set by the runtime.
    public var nodeStatus: NodeStatus?
    var session: ConnectionSession
    private var parser: RESPParser
    private var slots: [Slot] = []
    private var head = 0
    /// How many slots wait for each request: usually one; more when a client re-sent a request
    /// under the same number before the first answer came. Lets an answer stop searching once it
    /// has filled them all, and drop at once an answer nobody waits for.
    private var waiting: [RequestKey: Int] = [:]
    private var output: [UInt8] = []
    /// Commands waiting for the cluster's answer.
    public private(set) var inFlightCount = 0

    /// A connection whose own session has id `client` (see `RESP.connectionClientID`).
    public init(client: ClientID, options: Options = Options()) {
        self.options = options
        isAuthenticated = options.password == nil
        session = ConnectionSession(minted: client)
        parser = RESPParser(limits: options.limits)
    }

    /// The client id the connection's requests carry now.
    public var client: ClientID { session.client }

    /// Closing, and every reply is in the output: write it, then close.
    public var isFinished: Bool { isClosing && head == slots.count }

    /// Replies queued behind the first one still awaited: those waiting for the cluster and those
    /// ready behind them. A client that pipelines without reading grows this and the output;
    /// the runtime stops reading from a connection while either is large, as Redis's output
    /// buffer limits do.
    public var queuedReplyCount: Int { slots.count - head }

    /// Reads `bytes` from the client and returns the requests to send to the node, in order.
    public mutating func receive(_ bytes: ArraySlice<UInt8>) -> [ClientRequest] {
        var requests: [ClientRequest] = []
        receive(bytes, into: &requests)
        return requests
    }

    public mutating func receive(_ bytes: [UInt8]) -> [ClientRequest] { receive(bytes[...]) }

    /// Reads `bytes` from the client and appends the requests to send to the node to `requests`.
    public mutating func receive(_ bytes: ArraySlice<UInt8>, into requests: inout [ClientRequest]) {
        guard !isClosing else { return }
        parser.append(bytes)
        while !isClosing {
            let arguments: [[UInt8]]
            do {
                guard let next = try parser.next() else { return }
                arguments = next
            } catch {
                reply(.error(error.replyText))
                isClosing = true
                return
            }
            execute(arguments, into: &requests)
        }
    }

    /// The node's answer to a request this connection sent. Answers to requests it is not waiting
    /// for (a duplicate, one already abandoned) are dropped.
    public mutating func deliver(_ reply: ClientReply) {
        guard let command = complete(client: reply.client, sequence: reply.sequence, with: { RESPValue(reply, to: $0) }) else { return }
        session.finish(client: reply.client, sequence: reply.sequence, command: command, status: reply.status)
        if reply.status == .rejected(.sessionExpired), session.isMinted, reply.client == session.client {
            isClosing = true  // every further request of this session would be refused too
        }
        flush()
    }

    /// The runtime stopped waiting for the answer to request `sequence` of `client`: the client
    /// is told the command may or may not have taken effect.
    public mutating func abandon(client: ClientID, sequence: UInt64) {
        guard let command = complete(client: client, sequence: sequence, with: { _ in .timedOut }) else { return }
        session.finish(client: client, sequence: sequence, command: command, status: nil)
        flush()
    }

    /// The reply bytes ready to write, in command order, taken out of the connection.
    public mutating func takeOutput() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &output)
        return taken
    }

    // MARK: Commands

    private mutating func execute(_ arguments: [[UInt8]], into requests: inout [ClientRequest]) {
        do throws(RESPCommandError) {
            let command = try RESPCommand(arguments: arguments, maximumValueBytes: options.maximumValueBytes)
            try checkAuthenticated(for: command)
            switch command {
            case .data(let command):
                guard session.isMinted else { throw .sessionNeedsSequence }
                try checkInFlight()
                submit(session.mintRequest(command), into: &requests)
            case .sequenced(let sequence, let acked, let command):
                guard !session.isMinted else { throw .sequenceWithoutSession }
                try checkInFlight()
                submit(session.chosenRequest(command, sequence: sequence, ackedThrough: acked), into: &requests)
            case .session(let client, let established):
                session.bind(client, established: established)
                reply(.ok)
            case let local:
                try answer(local)
            }
        } catch {
            reply(error.reply)
        }
    }

    /// Before authentication only `AUTH`, `HELLO … AUTH` and `QUIT` pass, as in Redis.
    private func checkAuthenticated(for command: RESPCommand) throws(RESPCommandError) {
        guard !isAuthenticated else { return }
        switch command {
        case .auth, .quit, .hello(_, _, _?): return
        case .hello: throw .helloNeedsAuthentication
        default: throw .authenticationRequired
        }
    }

    /// Checks `credentials` as Redis does with only `requirepass` set: the one user is `default`;
    /// without a password, `AUTH password` is a configuration mistake and `default` with any
    /// password passes. The password is compared in time independent of where it differs.
    private mutating func authenticate(_ credentials: RESPCommand.Credentials) throws(RESPCommandError) {
        guard credentials.user.map({ $0 == Array("default".utf8) }) ?? true else { throw .wrongPassword }
        guard let password = options.password else {
            if credentials.user != nil { return }
            throw .noPasswordConfigured
        }
        guard Self.constantTimeEqual(credentials.password, password) else { throw .wrongPassword }
        isAuthenticated = true
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    private func checkInFlight() throws(RESPCommandError) {
        guard inFlightCount < options.maximumInFlight else { throw .tooManyInFlight(limit: options.maximumInFlight) }
    }

    private mutating func submit(_ request: ClientRequest, into requests: inout [ClientRequest]) {
        slots.append(.waiting(client: request.client, sequence: request.sequence, command: request.command, version: version))
        waiting[RequestKey(client: request.client, sequence: request.sequence), default: 0] += 1
        inFlightCount += 1
        requests.append(request)
    }

    /// Answers a command the connection serves itself.
    private mutating func answer(_ command: RESPCommand) throws(RESPCommandError) {
        switch command {
        case .auth(let credentials):
            try authenticate(credentials)
            reply(.ok)
        case .hello(let requested, let setName, let credentials):
            if let credentials { try authenticate(credentials) }
            if let requested { version = requested }
            if let setName { name = setName }
            reply(helloReply)
        case .clientSetName(let newName):
            name = newName
            reply(.ok)
        case .quit:
            reply(.ok)
            isClosing = true
        default:
            reply(localReply(command))
        }
    }

    // MARK: Reply order

    /// Queues `value`, encoded now, behind the replies still awaited.
    mutating func reply(_ value: RESPValue) {
        if head == slots.count {
            value.encode(into: &output, version: version)
        } else {
            slots.append(.ready(value.encoded(version: version)))
        }
    }

    /// Fills every slot waiting for request `sequence` of `client` with `reply(command)`; returns
    /// the command, or `nil` when no slot waits for it.
    private mutating func complete(client: ClientID, sequence: UInt64, with reply: (Command) -> RESPValue) -> Command? {
        guard var count = waiting.removeValue(forKey: RequestKey(client: client, sequence: sequence)) else { return nil }
        var found: Command?
        var index = head
        while count > 0 {
            if case .waiting(client, sequence, let command, let version) = slots[index] {
                slots[index] = .ready(reply(command).encoded(version: version))
                inFlightCount -= 1
                count -= 1
                found = command
            }
            index += 1
        }
        return found
    }

    /// Moves the replies at the front that are ready into the output.
    private mutating func flush() {
        while head < slots.count, case .ready(let bytes) = slots[head] {
            output.append(contentsOf: bytes)
            slots[head] = .ready([])
            head += 1
        }
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head >= slots.count / 2 {
            slots.removeSubrange(0..<head)
            head = 0
        }
    }
}
