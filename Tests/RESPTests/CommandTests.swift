import ConsensusCore
import RESP
import Testing

@Suite struct CommandTests {
    func command(_ arguments: String..., maximumValueBytes: Int = 1 << 20) -> Result<RESPCommand, RESPCommandError> {
        do throws(RESPCommandError) {
            return .success(try RESPCommand(arguments: arguments.map(bytes), maximumValueBytes: maximumValueBytes))
        } catch {
            return .failure(error)
        }
    }

    @Test func dataCommandsMapToStoreCommands() {
        #expect(command("GET", "k") == .success(.data(.get(key: "k"))))
        #expect(command("SET", "k", "v") == .success(.data(.put(key: "k", value: "v"))))
        #expect(command("DEL", "k") == .success(.data(.delete(key: "k"))))
        #expect(command("APPEND", "k", "v") == .success(.data(.append(key: "k", value: "v"))))
        #expect(command("SET", "k", "v", "IFEQ", "old") == .success(.data(.cas(key: "k", expected: "old", value: "v"))))
        #expect(command("SET", "k", "v", "NX") == .success(.data(.cas(key: "k", expected: nil, value: "v"))))
        #expect(command("SET", "k", "", "IFEQ", "") == .success(.data(.cas(key: "k", expected: "", value: ""))))
    }

    @Test func namesAndOptionsAreCaseInsensitive() {
        for name in ["get", "GET", "Get", "gEt"] { #expect(command(name, "K") == .success(.data(.get(key: "K")))) }
        #expect(command("set", "k", "v", "ifeq", "o") == .success(.data(.cas(key: "k", expected: "o", value: "v"))))
        #expect(command("sEt", "k", "v", "nX") == .success(.data(.cas(key: "k", expected: nil, value: "v"))))
        #expect(command("config", "GeT", "SAVE") == .success(.configGet(patterns: ["save"])))
        #expect(command("Conlab.Session", "9") == .success(.session(ClientID(9), established: false)))
    }

    @Test func wrongArityUsesRedisWording() {
        let cases: [([String], String)] = [
            (["GET"], "get"), (["GET", "a", "b"], "get"), (["SET", "k"], "set"), (["DEL"], "del"),
            (["APPEND", "k"], "append"), (["ECHO"], "echo"), (["PING", "a", "b"], "ping"), (["SELECT"], "select"),
            (["CONFIG"], "config"), (["CONFIG", "GET"], "config|get"), (["CLIENT", "SETNAME"], "client|setname"),
            (["AUTH"], "auth"), (["CONLAB.SEQ", "1", "0", "GET"], "conlab.seq"), (["CONLAB.SESSION"], "conlab.session"),
        ]
        for (arguments, name) in cases {
            let result = Result { () throws(RESPCommandError) in try RESPCommand(arguments: arguments.map(bytes), maximumValueBytes: 100) }
            #expect(result == .failure(.wrongArity(command: name)), "\(arguments)")
        }
        #expect(RESPCommandError.wrongArity(command: "get").description == "ERR wrong number of arguments for 'get' command")
    }

    @Test func unknownCommandsAreRefusedAsRedisRefusesThem() {
        #expect(command("INCR", "counter") == .failure(.unknownCommand(name: bytes("INCR"), arguments: [bytes("counter")])))
        #expect(RESPCommandError.unknownCommand(name: bytes("INCR"), arguments: [bytes("counter"), bytes("x")]).description
                == "ERR unknown command 'INCR', with args beginning with: 'counter' 'x' ")
        #expect(RESPCommandError.unknownCommand(name: bytes("FOO"), arguments: []).description
                == "ERR unknown command 'FOO', with args beginning with: ")
        // The list of arguments stops near 128 characters, as Redis's does.
        let long = RESPCommandError.unknownCommand(name: bytes("X"), arguments: Array(repeating: Array(repeating: 0x61, count: 100), count: 5))
        #expect(long.description.utf8.count < 200)
        #expect(command("CONFIG", "SET", "a", "b") == .failure(.unknownSubcommand(command: "CONFIG", subcommand: bytes("SET"))))
        #expect(RESPCommandError.unknownSubcommand(command: "CONFIG", subcommand: bytes("SET")).description
                == "ERR unknown subcommand 'SET'. Try CONFIG HELP.")
    }

    @Test func setOptionsThisStoreCannotHonourAreRefused() {
        #expect(command("SET", "k", "v", "XX") == .failure(.unsupportedSetOption("XX")))
        #expect(command("SET", "k", "v", "ex", "10") == .failure(.unsupportedSetOption("EX")))
        #expect(command("SET", "k", "v", "GET") == .failure(.unsupportedSetOption("GET")))
        #expect(RESPCommandError.unsupportedSetOption("XX").description.contains("IFEQ"))
        #expect(command("SET", "k", "v", "IFEQ") == .failure(.syntaxError))
        #expect(command("SET", "k", "v", "NX", "IFEQ", "a") == .failure(.syntaxError))
        #expect(command("SET", "k", "v", "IFEQ", "a", "IFEQ", "b") == .failure(.syntaxError))
        #expect(command("SET", "k", "v", "BOGUS") == .failure(.syntaxError))
    }

    @Test func oneRequestIsOneCommand() {
        #expect(command("DEL", "a", "b", "c") == .failure(.severalKeys(command: "DEL", count: 3)))
        #expect(RESPCommandError.severalKeys(command: "DEL", count: 3).description.contains("takes one key"))
    }

    @Test func keysAndValuesAreTextWithinTheLimit() throws {
        let invalid = [bytes("SET"), bytes("k"), [0xFF, 0xFE]]
        #expect(throws: RESPCommandError.notUTF8(what: "value")) { try RESPCommand(arguments: invalid, maximumValueBytes: 10) }
        #expect(throws: RESPCommandError.notUTF8(what: "key")) {
            try RESPCommand(arguments: [bytes("GET"), [0xC3]], maximumValueBytes: 10)
        }
        #expect(command("SET", "k", "12345", maximumValueBytes: 4) == .failure(.valueTooLarge(bytes: 5, limit: 4)))
        #expect(command("SET", "k", "v", "IFEQ", "12345", maximumValueBytes: 4) == .failure(.valueTooLarge(bytes: 5, limit: 4)))
        #expect(command("APPEND", "k", "1234", maximumValueBytes: 4) == .success(.data(.append(key: "k", value: "1234"))))
        #expect(RESPCommandError.valueTooLarge(bytes: 5, limit: 4).description == "ERR value of 5 bytes exceeds the limit of 4 bytes")
    }

    @Test func connectionCommands() {
        #expect(command("PING") == .success(.ping(message: nil)))
        #expect(command("PING", "hi") == .success(.ping(message: bytes("hi"))))
        #expect(command("ECHO", "hi") == .success(.echo(bytes("hi"))))
        #expect(command("INFO") == .success(.info(sections: [])))
        #expect(command("INFO", "Server", "CLIENTS") == .success(.info(sections: ["server", "clients"])))
        #expect(command("CONFIG", "GET", "save", "append*") == .success(.configGet(patterns: ["save", "append*"])))
        #expect(command("CLIENT", "SETNAME", "me") == .success(.clientSetName("me")))
        #expect(command("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == .success(.clientSetInfo))
        #expect(command("CLIENT", "KILL", "x") == .failure(.unknownSubcommand(command: "CLIENT", subcommand: bytes("KILL"))))
        #expect(command("AUTH", "secret") == .success(.auth(.init(password: bytes("secret")))))
        #expect(command("AUTH", "user", "secret") == .success(.auth(.init(user: bytes("user"), password: bytes("secret")))))
        #expect(command("AUTH", "a", "b", "c") == .failure(.syntaxError))
        #expect(command("QUIT") == .success(.quit))
        #expect(command("SELECT", "0") == .success(.select))
        #expect(command("SELECT", "1") == .failure(.databaseOutOfRange))
        #expect(command("SELECT", "x") == .failure(.notAnInteger))
        #expect(command("COMMAND") == .success(.commandTable))
        #expect(command("COMMAND", "DOCS") == .success(.commandTable))
        #expect(command("COMMAND", "DOCS", "get") == .success(.commandTable))
        #expect(command("COMMAND", "COUNT") == .success(.commandCount))
    }

    @Test func helloIsReadAsRedisReadsIt() {
        #expect(command("HELLO") == .success(.hello(version: nil, setName: nil, credentials: nil)))
        #expect(command("HELLO", "3") == .success(.hello(version: .resp3, setName: nil, credentials: nil)))
        #expect(command("HELLO", "2", "AUTH", "u", "p", "SETNAME", "n")
                == .success(.hello(version: .resp2, setName: "n", credentials: .init(user: bytes("u"), password: bytes("p")))))
        #expect(command("HELLO", "4") == .failure(.unsupportedProtocolVersion))
        #expect(RESPCommandError.unsupportedProtocolVersion.description == "NOPROTO unsupported protocol version")
        #expect(command("HELLO", "three") == .failure(.helloVersionNotAnInteger))
        #expect(command("HELLO", "3", "AUTH", "u") == .failure(.helloSyntax(option: bytes("AUTH"))))
        #expect(command("HELLO", "3", "SETNAME") == .failure(.helloSyntax(option: bytes("SETNAME"))))
    }

    @Test func sessionCommands() {
        #expect(command("CONLAB.SESSION", "42", "established") == .success(.session(ClientID(42), established: true)))
        #expect(command("CONLAB.SESSION", "42", "later") == .failure(.syntaxError))
        for id in ["0", "-1", "x", String(1 << 62)] {
            #expect(command("CONLAB.SESSION", id) == .failure(.invalidClientID(bytes(id))), "\(id)")
        }
        #expect(command("CONLAB.SEQ", "5", "3", "set", "k", "v", "ifeq", "o")
                == .success(.sequenced(sequence: 5, ackedThrough: 3, .cas(key: "k", expected: "o", value: "v"))))
        #expect(command("CONLAB.SEQ", "1", "0", "GET", "k") == .success(.sequenced(sequence: 1, ackedThrough: 0, .get(key: "k"))))
        for (sequence, acked) in [("0", "0"), ("3", "3"), ("3", "4"), ("x", "0"), ("2", "-1")] {
            #expect(command("CONLAB.SEQ", sequence, acked, "GET", "k")
                    == .failure(.invalidSequence(sequence: bytes(sequence), ackedThrough: bytes(acked))), "\(sequence) \(acked)")
        }
        #expect(command("CONLAB.SEQ", "1", "0", "PING", "x") == .failure(.notADataCommand(name: bytes("PING"))))
        #expect(command("CONLAB.SEQ", "2", "0", "CONLAB.SEQ", "1", "0", "GET", "k") == .failure(.notADataCommand(name: bytes("CONLAB.SEQ"))))
        // Errors of the wrapped command are the command's own.
        #expect(command("CONLAB.SEQ", "1", "0", "GET", "k", "x") == .failure(.wrongArity(command: "get")))
    }
}
