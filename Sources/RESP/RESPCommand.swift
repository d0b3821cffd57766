import ConsensusCore

/// A client's command, read from its arguments by `init(arguments:maximumValueBytes:)`: a key-value
/// command for the cluster, one of the connection commands that Redis clients send when they
/// connect, or one of the front end's session commands (see `RESP`).
public enum RESPCommand: Hashable, Sendable {
    /// `GET`, `SET` (with `IFEQ` or `NX`: compare-and-set), `DEL`, `APPEND`: for the cluster.
    case data(Command)
    /// `CONLAB.SEQ <sequence> <acked-through> <data command…>`: a data command under a sequence
    /// number the client chose, on a connection bound to a session by `CONLAB.SESSION`.
    case sequenced(sequence: UInt64, ackedThrough: UInt64, Command)
    /// `CONLAB.SESSION <client-id> [ESTABLISHED]`: binds the connection to a client's session.
    case session(ClientID, established: Bool)
    /// `PING [message]`: `+PONG`, or the message as a bulk string.
    case ping(message: [UInt8]?)
    /// `ECHO message`.
    case echo([UInt8])
    /// `INFO [section …]`, sections lowercased.
    case info(sections: [String])
    /// `CONFIG GET pattern [pattern …]`, patterns lowercased.
    case configGet(patterns: [String])
    /// `CLIENT SETNAME name` and `CLIENT SETINFO attribute value`: `+OK`, nothing kept but the name.
    case clientSetName(String)
    case clientSetInfo
    /// `CLIENT GETNAME`, `CLIENT ID`.
    case clientGetName
    case clientID
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`; the credentials are checked as `AUTH`'s.
    case hello(version: RESPVersion?, setName: String?, credentials: Credentials?)
    /// `AUTH [user] password`: checked against the node's `requirepass` (see `Credentials`).
    case auth(Credentials)
    /// `QUIT`: `+OK`, then the connection closes.
    case quit
    /// `SELECT 0`: the only database.
    case select
    /// `COMMAND`, `COMMAND DOCS|INFO|LIST …`: an empty array; `COMMAND COUNT`: 0. Clients read
    /// these for help texts and key positions, and do without them.
    case commandTable
    case commandCount

    /// A user name and password as `AUTH` and `HELLO … AUTH` carry them. Like Redis with only
    /// `requirepass` set, there is one user, `default`; `AUTH password` (user `nil`) means it.
    public struct Credentials: Hashable, Sendable {
        public var user: [UInt8]?
        public var password: [UInt8]

        public init(user: [UInt8]? = nil, password: [UInt8]) {
            self.user = user
            self.password = password
        }
    }
}
