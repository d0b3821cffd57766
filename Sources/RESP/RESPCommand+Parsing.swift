import ConsensusCore

extension RESPCommand {
    /// Reads a command from its arguments (as `RESPParser` yields them). Command names, subcommand
    /// names and options are case-insensitive, as in Redis; keys and values are UTF-8 text, each
    /// value at most `maximumValueBytes` long.
    public init(arguments: [[UInt8]], maximumValueBytes: Int) throws(RESPCommandError) {
        guard let first = arguments.first else { throw .syntaxError }
        let reader = ArgumentReader(arguments: arguments, maximumValueBytes: maximumValueBytes)
        switch Self.lowercased(first) {
        case "get": self = .data(try reader.get())
        case "set": self = .data(try reader.set())
        case "del": self = .data(try reader.del())
        case "append": self = .data(try reader.append())
        case "conlab.seq": self = try reader.sequenced()
        case "conlab.session": self = try reader.session()
        case "ping": self = try reader.ping()
        case "echo": self = .echo(try reader.exactly(2, "echo")[1])
        case "info": self = .info(sections: arguments.dropFirst().map(Self.lowercased))
        case "config": self = try reader.config()
        case "client": self = try reader.client()
        case "hello": self = try reader.hello()
        case "auth": self = try reader.auth()
        case "quit": self = .quit
        case "select": self = try reader.select()
        case "command": self = try reader.command()
        default: throw .unknownCommand(name: first, arguments: Array(arguments.dropFirst()))
        }
    }

    /// ASCII letters lowercased; command names and options are ASCII, so this is enough.
    static func lowercased(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// The arguments of one command, read by the command's rules.
private struct ArgumentReader {
    let arguments: [[UInt8]]
    let maximumValueBytes: Int

    // MARK: Data commands

    func get() throws(RESPCommandError) -> Command {
        .get(key: try key(exactly(2, "get")[1]))
    }

    /// `SET key value [IFEQ expected | NX]`. `NX` is compare-and-set against absence, so it maps to
    /// `cas(expected: nil)`, with Redis's answers: `+OK` when set, null when the key existed.
    func set() throws(RESPCommandError) -> Command {
        let arguments = try atLeast(3, "set")
        let key = try key(arguments[1])
        let value = try value(arguments[2])
        var condition: String??
        var position = 3
        while position < arguments.count {
            switch RESPCommand.lowercased(arguments[position]) {
            case "ifeq" where condition == nil && position + 1 < arguments.count:
                condition = .some(try self.value(arguments[position + 1]))
                position += 2
            case "nx" where condition == nil:
                condition = .some(nil)
                position += 1
            case "xx", "get", "ex", "px", "exat", "pxat", "keepttl", "ifne", "ifdeq", "ifdne":
                throw .unsupportedSetOption(RESPCommand.lowercased(arguments[position]).uppercased())
            default:
                throw .syntaxError
            }
        }
        guard let condition else { return .put(key: key, value: value) }
        return .cas(key: key, expected: condition, value: value)
    }

    func del() throws(RESPCommandError) -> Command {
        let arguments = try atLeast(2, "del")
        guard arguments.count == 2 else { throw .severalKeys(command: "DEL", count: arguments.count - 1) }
        return .delete(key: try key(arguments[1]))
    }

    func append() throws(RESPCommandError) -> Command {
        let arguments = try exactly(3, "append")
        return .append(key: try key(arguments[1]), value: try value(arguments[2]))
    }

    // MARK: Sessions

    func sequenced() throws(RESPCommandError) -> RESPCommand {
        let arguments = try atLeast(5, "conlab.seq")
        guard let sequence = ASCII.integer(arguments[1][...]), let acked = ASCII.integer(arguments[2][...]), sequence >= 1,
              acked >= 0, acked < sequence else {
            throw .invalidSequence(sequence: arguments[1], ackedThrough: arguments[2])
        }
        let inner = Array(arguments[3...])
        guard case .data(let command) = try RESPCommand(arguments: inner, maximumValueBytes: maximumValueBytes) else {
            throw .notADataCommand(name: inner[0])
        }
        return .sequenced(sequence: UInt64(sequence), ackedThrough: UInt64(acked), command)
    }

    func session() throws(RESPCommandError) -> RESPCommand {
        let arguments = try between(2, 3, "conlab.session")
        guard let id = ASCII.integer(arguments[1][...]), id >= 1, id <= RESP.maximumSessionClientID else {
            throw .invalidClientID(arguments[1])
        }
        if arguments.count == 3, RESPCommand.lowercased(arguments[2]) != "established" { throw .syntaxError }
        return .session(ClientID(Int(id)), established: arguments.count == 3)
    }

    // MARK: Connection commands

    func ping() throws(RESPCommandError) -> RESPCommand {
        .ping(message: try between(1, 2, "ping").dropFirst().first)
    }

    func config() throws(RESPCommandError) -> RESPCommand {
        let arguments = try atLeast(2, "config")
        guard RESPCommand.lowercased(arguments[1]) == "get" else {
            throw .unknownSubcommand(command: "CONFIG", subcommand: arguments[1])
        }
        return .configGet(patterns: try atLeast(3, "config|get").dropFirst(2).map(RESPCommand.lowercased))
    }

    func client() throws(RESPCommandError) -> RESPCommand {
        let arguments = try atLeast(2, "client")
        switch RESPCommand.lowercased(arguments[1]) {
        case "setname": return .clientSetName(String(decoding: try exactly(3, "client|setname")[2], as: UTF8.self))
        case "setinfo": _ = try exactly(4, "client|setinfo"); return .clientSetInfo
        case "getname": _ = try exactly(2, "client|getname"); return .clientGetName
        case "id": _ = try exactly(2, "client|id"); return .clientID
        default: throw .unknownSubcommand(command: "CLIENT", subcommand: arguments[1])
        }
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`, read as Redis reads it.
    func hello() throws(RESPCommandError) -> RESPCommand {
        guard arguments.count >= 2 else { return .hello(version: nil, setName: nil, credentials: nil) }
        guard let number = ASCII.integer(arguments[1][...]) else { throw .helloVersionNotAnInteger }
        guard let version = RESPVersion(rawValue: Int(number)) else { throw .unsupportedProtocolVersion }
        var setName: String?
        var credentials: RESPCommand.Credentials?
        var position = 2
        while position < arguments.count {
            let more = arguments.count - 1 - position
            switch RESPCommand.lowercased(arguments[position]) {
            case "auth" where more >= 2:
                credentials = RESPCommand.Credentials(user: arguments[position + 1], password: arguments[position + 2])
                position += 3
            case "setname" where more >= 1:
                setName = String(decoding: arguments[position + 1], as: UTF8.self)
                position += 2
            default: throw .helloSyntax(option: arguments[position])
            }
        }
        return .hello(version: version, setName: setName, credentials: credentials)
    }

    func auth() throws(RESPCommandError) -> RESPCommand {
        let arguments = try atLeast(2, "auth")
        guard arguments.count <= 3 else { throw .syntaxError }
        return .auth(arguments.count == 2 ? RESPCommand.Credentials(password: arguments[1]) : RESPCommand.Credentials(user: arguments[1], password: arguments[2]))
    }

    func select() throws(RESPCommandError) -> RESPCommand {
        guard let database = ASCII.integer(try exactly(2, "select")[1][...]) else { throw .notAnInteger }
        guard database == 0 else { throw .databaseOutOfRange }
        return .select
    }

    func command() throws(RESPCommandError) -> RESPCommand {
        guard arguments.count >= 2 else { return .commandTable }
        switch RESPCommand.lowercased(arguments[1]) {
        case "docs", "info", "list": return .commandTable
        case "count": _ = try exactly(2, "command|count"); return .commandCount
        default: throw .unknownSubcommand(command: "COMMAND", subcommand: arguments[1])
        }
    }

    // MARK: Arguments

    func exactly(_ count: Int, _ command: String) throws(RESPCommandError) -> [[UInt8]] {
        try between(count, count, command)
    }

    func atLeast(_ count: Int, _ command: String) throws(RESPCommandError) -> [[UInt8]] {
        try between(count, .max, command)
    }

    /// The arguments (the name included) when there are `minimum`…`maximum` of them.
    func between(_ minimum: Int, _ maximum: Int, _ command: String) throws(RESPCommandError) -> [[UInt8]] {
        guard arguments.count >= minimum, arguments.count <= maximum else { throw .wrongArity(command: command) }
        return arguments
    }

    func key(_ bytes: [UInt8]) throws(RESPCommandError) -> String {
        guard let key = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(what: "key") }
        return key
    }

    func value(_ bytes: [UInt8]) throws(RESPCommandError) -> String {
        guard bytes.count <= maximumValueBytes else { throw .valueTooLarge(bytes: bytes.count, limit: maximumValueBytes) }
        guard let value = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(what: "value") }
        return value
    }
}
