import ConsensusCore
import RESP
import Runtime

/// The node's Redis-protocol front end: a listener on the member's client address, and a
/// `ClientLink` per connection.
extension NodeServer {
    /// Bytes a client may have queued for it before the node drops the connection.
    static var clientOutputLimit: Int { 32 << 20 }

    /// Every connection's RESP options: the defaults, and the cluster's `requirepass`.
    var clientOptions: RESPConnection.Options { RESPConnection.Options(password: configuration.requirepass) }

    func openClients() throws {
        let listener = try TCPListener(loop: loop, address: member.client, connectionOutputLimit: Self.clientOutputLimit)
        listener.onAccept = { [weak self] connection in self?.accept(connection) }
        listener.onAcceptFailure = { [weak self] error in self?.log.write("accepting a client failed: \(error)") }
        self.listener = listener
    }

    private func accept(_ connection: TCPConnection) {
        guard isRunning else { return connection.close() }
        connectionsAccepted += 1
        let number = connectionsAccepted
        let client = RESP.connectionClientID(node: id, incarnation: status.incarnation, connection: number)
        let link = ClientLink(number: number, connection: connection, client: client, options: clientOptions)
        clients[number] = link
        link.onDone = { [weak self] link in self?.clients[link.number] = nil }
        connection.onRead = { [weak self, unowned link] bytes in self?.read(bytes, from: link) }
        // A malformed command closes only its own connection: the RESP state answers the error
        // and finishes, and `flush` closes after writing it.
        connection.onClose = { [weak self] _ in self?.clients[number] = nil }
    }

    private func read(_ bytes: UnsafeRawBufferPointer, from link: ClientLink) {
        guard isRunning else { return }
        link.resp.nodeStatus = currentStatus
        link.resp.receive(Array(bytes)[...], into: &requestBuffer)
        for request in requestBuffer { accept(request, connection: link.number) }
        requestBuffer.removeAll(keepingCapacity: true)
        link.flush()
    }
}
