/// Why a well-formed command was refused before it reached the cluster. The connection answers
/// with the error (`reply`) and carries on. Texts follow Redis's where Redis has the same error,
/// so clients and people recognise them.
public enum RESPCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A command this front end does not know; `name` and `arguments` as sent.
    case unknownCommand(name: [UInt8], arguments: [[UInt8]])
    /// A subcommand of `command` (uppercase, as Redis prints it) this front end does not know.
    case unknownSubcommand(command: String, subcommand: [UInt8])
    /// Too few or too many arguments; `command` is Redis's full name (`get`, `config|get`).
    case wrongArity(command: String)
    case syntaxError
    /// A `SET` option Redis has and this store cannot honour (`XX`, `GET`, expiry …).
    case unsupportedSetOption(String)
    /// A `DEL` of several keys: one request carries one command, so one key.
    case severalKeys(command: String, count: Int)
    /// A number argument that is not a decimal integer in range.
    case notAnInteger
    case databaseOutOfRange
    /// `HELLO` with a version other than 2 or 3.
    case unsupportedProtocolVersion
    case helloVersionNotAnInteger
    case helloSyntax(option: [UInt8])
    /// A key or value that is not UTF-8: the store holds text.
    case notUTF8(what: String)
    /// A value longer than the front end's `maximumValueBytes`.
    case valueTooLarge(bytes: Int, limit: Int)
    /// `CONLAB.SESSION` with an id outside 1…`RESP.maximumSessionClientID`.
    case invalidClientID([UInt8])
    /// `CONLAB.SEQ` with a sequence number that is not 1 or more, or an acknowledgement watermark
    /// that is not below it.
    case invalidSequence(sequence: [UInt8], ackedThrough: [UInt8])
    /// `CONLAB.SEQ` around something other than a data command.
    case notADataCommand(name: [UInt8])
    /// `CONLAB.SEQ` on a connection without `CONLAB.SESSION`.
    case sequenceWithoutSession
    /// A bare data command on a connection with `CONLAB.SESSION`: it would need a sequence number
    /// the client did not choose, which could collide with one it did.
    case sessionNeedsSequence
    /// The connection has `limit` commands waiting for the cluster's answer already.
    case tooManyInFlight(limit: Int)
    /// A command other than `AUTH`, `HELLO … AUTH` or `QUIT` before the client authenticated on
    /// a node that requires a password.
    case authenticationRequired
    /// `HELLO` without `AUTH` before the client authenticated.
    case helloNeedsAuthentication
    /// `AUTH` or `HELLO … AUTH` with a user or password that does not match.
    case wrongPassword
    /// `AUTH password` on a node that requires none.
    case noPasswordConfigured

    /// The error's kind: the first word of its reply, which clients dispatch on.
    public var kind: String {
        switch self {
        case .unsupportedProtocolVersion: "NOPROTO"
        case .authenticationRequired, .helloNeedsAuthentication: "NOAUTH"
        case .wrongPassword: "WRONGPASS"
        default: "ERR"
        }
    }

    public var message: String {
        switch self {
        case .unknownCommand(let name, let arguments):
            "unknown command '\(Self.text(name.prefix(128)))', with args beginning with: \(Self.argumentsText(arguments))"
        case .unknownSubcommand(let command, let subcommand):
            "unknown subcommand '\(Self.text(subcommand.prefix(128)))'. Try \(command) HELP."
        case .wrongArity(let command):
            "wrong number of arguments for '\(command)' command"
        case .syntaxError:
            "syntax error"
        case .unsupportedSetOption(let option):
            "SET option '\(option)' is not supported: this store offers SET key value, SET key value IFEQ expected and SET key value NX"
        case .severalKeys(let command, let count):
            "\(command) of \(count) keys is not supported: each request carries one command, so \(command) takes one key"
        case .notAnInteger:
            "value is not an integer or out of range"
        case .databaseOutOfRange:
            "DB index is out of range"
        case .unsupportedProtocolVersion:
            "unsupported protocol version"
        case .helloVersionNotAnInteger:
            "Protocol version is not an integer or out of range"
        case .helloSyntax(let option):
            "Syntax error in HELLO option '\(Self.text(option.prefix(128)))'"
        case .notUTF8(let what):
            "the \(what) is not valid UTF-8: this store holds text"
        case .valueTooLarge(let bytes, let limit):
            "value of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .invalidClientID(let id):
            "invalid client id '\(Self.text(id.prefix(32)))' for CONLAB.SESSION: expected an integer from 1 to \(RESP.maximumSessionClientID)"
        case .invalidSequence(let sequence, let acked):
            "invalid CONLAB.SEQ numbers '\(Self.text(sequence.prefix(32)))' '\(Self.text(acked.prefix(32)))': the sequence number must be 1 or more and the acknowledged-through number below it"
        case .notADataCommand(let name):
            "CONLAB.SEQ wraps GET, SET, DEL or APPEND, not '\(Self.text(name.prefix(128)))'"
        case .sequenceWithoutSession:
            "CONLAB.SEQ needs a session: send CONLAB.SESSION <client-id> first"
        case .sessionNeedsSequence:
            "this connection has a session (CONLAB.SESSION): send data commands as CONLAB.SEQ <sequence> <acked-through> <command>"
        case .tooManyInFlight(let limit):
            "too many commands in flight on this connection: \(limit) are waiting for the cluster, the limit; read their replies first"
        case .authenticationRequired:
            "Authentication required."
        case .helloNeedsAuthentication:
            "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
        case .wrongPassword:
            "invalid username-password pair or user is disabled."
        case .noPasswordConfigured:
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        }
    }

    /// The whole error line, `kind message`.
    public var description: String { kind + " " + message }

    /// The error as a reply.
    public var reply: RESPValue { .error(description) }

    /// Bytes for an error message: invalid UTF-8 becomes U+FFFD; CR and LF are replaced when the
    /// reply is encoded.
    private static func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Redis's list of the first arguments: each quoted and followed by a space, until 128
    /// characters are reached.
    private static func argumentsText(_ arguments: [[UInt8]]) -> String {
        var listed = ""
        for argument in arguments where listed.utf8.count < 128 {
            listed += "'" + text(argument.prefix(128 - listed.utf8.count)) + "' "
        }
        return listed
    }
}
