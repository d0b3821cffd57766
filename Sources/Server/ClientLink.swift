import ConsensusCore
import RESP
import Runtime

/// One client's TCP connection and its RESP state: requests parsed from its bytes, replies written
/// back in the order the commands came. A class, so that the node's table of connections and the
/// connection's callbacks share one.
final class ClientLink {
    let number: UInt64
    let connection: TCPConnection
    var resp: RESPConnection
    /// The link closed (`flush` found the client done, or its output over the limit).
    var onDone: ((ClientLink) -> Void)?

    init(number: UInt64, connection: TCPConnection, client: ClientID, options: RESPConnection.Options) {
        self.number = number
        self.connection = connection
        resp = RESPConnection(client: client, options: options)
    }

    func deliver(_ reply: ClientReply) {
        resp.deliver(reply)
        flush()
    }

    func abandon(_ key: RequestRouter.Key) {
        resp.abandon(client: key.client, sequence: key.sequence)
        flush()
    }

    /// Writes the replies ready; closes once the client is done (`QUIT`, a protocol error), or at
    /// once if it does not read its replies and they pass the connection's output bound (Redis's
    /// client output buffer limit does the same).
    func flush() {
        let output = resp.takeOutput()
        if !output.isEmpty, connection.write(output) == .queueFull {
            connection.close()
            onDone?(self)
        } else if resp.isFinished {
            connection.closeAfterFlush()
            onDone?(self)
        }
    }
}
