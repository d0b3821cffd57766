import ConsensusCore

/// The Redis protocol front end of the lab's key-value store, as pure code: bytes in, requests
/// and reply bytes out, no sockets. The runtime feeds each client connection's bytes to a
/// `RESPConnection`, sends the `ClientRequest`s it returns to the node, hands the node's
/// `ClientReply`s back, and writes the reply bytes out. Ordinary Redis clients (`redis-cli`,
/// `redis-benchmark`, redis-py) speak RESP2, or RESP3 after `HELLO 3`.
///
/// ## What clients can send
/// `GET`, `SET` (plain; `IFEQ expected`, Redis 8.4's compare-and-set; `NX`, compare-and-set
/// against absence), `DEL` of one key and `APPEND` go to the cluster. `PING`, `ECHO`, `INFO`,
/// `CONFIG GET`, `CLIENT SETNAME|SETINFO|GETNAME|ID`, `HELLO`, `AUTH`, `QUIT`, `SELECT 0` and
/// `COMMAND [DOCS|INFO|LIST|COUNT]` are answered by the connection: they are what clients send
/// when they connect (redis-benchmark: `CONFIG GET save`, `CONFIG GET appendonly`; redis-cli:
/// `COMMAND DOCS`, `HELLO 3` with `-3`, `AUTH` with `-a`, `SELECT` with `-n`; redis-py:
/// `CLIENT SETINFO`). Anything else is refused with Redis's "unknown command" error.
///
/// ## Sessions: exactly-once over RESP
/// The store applies a request once per (client id, sequence number) and answers every copy with
/// the first answer (see `ClientRequest`). A Redis client knows nothing of that, so by default a
/// connection is a session of its own: its client id is minted for the connection
/// (`connectionClientID(node:incarnation:connection:)`, in the upper id range that clients cannot
/// choose), its commands are numbered 1, 2, 3, … in the order they arrive, each carries the
/// highest number below which every command has been answered (`ackedThrough`), and once a write
/// has been answered `+OK`-like every later request says the store must know the session
/// (`established`). A client that retries after an error sends a new command, as with Redis:
/// at-least-once. If the store expires the session (the connection sat idle for longer than the
/// session timeout), the connection answers the commands in flight and closes; the client's
/// reconnect is a new session.
///
/// A client that wants exactly-once chooses its own session and numbers:
///
///     CONLAB.SESSION <client-id> [ESTABLISHED]
///     CONLAB.SEQ <sequence> <acked-through> <command> [argument …]
///
/// `CONLAB.SESSION` (answered `+OK`) binds the connection to client id 1…`maximumSessionClientID`;
/// `ESTABLISHED` says one of the session's writes was answered already, on an earlier
/// connection, so a store that has forgotten the session must refuse instead of opening it again
/// (`RejectReason.sessionExpired`). From then on each data command is wrapped in `CONLAB.SEQ`:
/// the client numbers its commands from 1, says through which number it has finished with the
/// answers (0 at first), and re-sends an unanswered command under the same number, on this
/// connection or after reconnecting to any node, and gets the first answer. `CONLAB.SEQ`
/// answers what the wrapped command answers. Bare data commands on a session connection are
/// refused: a number the front end picked could collide with one the client picks. Sending
/// `CONLAB.SESSION` again (with a new id, after the store expired the old session) rebinds the
/// connection; answers to commands already in flight still arrive, in order.
public enum RESP {
    /// The Redis version whose protocol and commands the front end follows (`SET … IFEQ` is 8.4's),
    /// reported by `HELLO` and `INFO`, where clients look for features.
    public static let compatibleRedisVersion = "8.4.0"
    /// The server's name in `HELLO`'s `server` field.
    public static let serverName = "conlab"
    /// The largest client id `CONLAB.SESSION` accepts: ids from 2⁶² up belong to connections.
    public static let maximumSessionClientID = ClientID.maximumChosen

    /// The client id of a connection without `CONLAB.SESSION`: bit 62 set (no client can choose
    /// it), then the node's id (10 bits), the node process's incarnation (20 bits: a number the
    /// runtime raises at every start, so a restarted node mints no id its previous life handed out
    /// while the store may still hold that session) and the connection's number in that
    /// incarnation (32 bits). Numbers past a field's width wrap; a wrapped id collides only with a
    /// session some 2³² connections older, which the store has long expired.
    public static func connectionClientID(node: NodeID, incarnation: UInt64, connection: UInt64) -> ClientID {
        let node = UInt64(truncatingIfNeeded: node.rawValue) & 0x3FF
        let raw = 1 << 62 | node << 52 | (incarnation & 0xF_FFFF) << 32 | connection & 0xFFFF_FFFF
        return ClientID(Int(raw))
    }
}
