import ConsensusCore
import Lab
import RESP
import Server
import Sharding

/// A sharded run's cross-shard transactions on real processes: each coordinated by its client
/// with the simulator's own clerk (`TransactionClerk`: PREPARE at each group the writes touch, the
/// decision created once in the metaserver, then COMMIT or ABORT at each group), every step a
/// request of the client's session to the destination the clerk names, and recorded as the
/// simulator's clients record them (`TransactionLedger`). Its keys and whether an operation is a
/// transaction are drawn from the same streams as in the simulator.
extension ClientEngine {
    /// Starts a transaction over keys routed by the table read so far; with a key no group is known
    /// to serve, the table is read again and the client thinks (the transaction never began).
    func beginTransaction(_ client: Client) {
        guard let routes = routes as? any TransactionRoutes else { return think(client) }
        client.transactionCount += 1
        let id = "\(client.id).t\(client.transactionCount)"
        let writes = transactionMix.writes(id: id, keys: workload.keys, random: &client.transactions)
        guard let clerk = TransactionClerk(id: id, writes: writes, configuration: routes.configuration) else {
            routes.refresh()
            return think(client)
        }
        client.transaction = (clerk, TransactionLedger.Open(id: id, client: client.id, writes: writes, started: now), routes.configuration)
        sendStep(client, routes)
    }

    /// Sends the clerk's request, under a new number of the client's session (after
    /// `redirectBackoff` when the last step was refused: a group without a leader, say, is not
    /// asked again at once).
    private func sendStep(_ client: Client, _ routes: any TransactionRoutes, backingOff: Bool = false) {
        guard let clerk = client.transaction?.clerk else { return }
        let (target, command) = clerk.request
        let destination = routes.destination(of: target)
        if let group = routes.group(at: destination) { client.transaction!.open.nodes[group] = routes.node(destination, home: client.home, client: client.id) }
        client.sequence += 1
        var step = Pending(historyIndex: nil, sequence: client.sequence, command: command, deadline: now + workload.timeout, target: destination)
        if backingOff { step.resendAt = now + workload.redirectBackoff }
        client.operations.append(step)
        if !backingOff { dispatch(client.operations.count - 1, by: client, connectingNow: true) }
        schedule(client)
    }

    /// A reply to a step: the clerk's outcome (as the operator's driver reads a control command's
    /// reply), or, for a refusal that took no effect, the same step again after `redirectBackoff`.
    func answerStep(_ reply: RESPClient.Reply, _ position: Int, _ client: Client, _ link: Link) {
        guard let outcome = ShardDriver.outcome(reply, of: client.operations[position].command) else {
            noLeader(behind: link, of: client)
            client.operations[position].resendAt = now + workload.redirectBackoff
            return schedule(client)
        }
        take(position, client, outcome)
    }

    /// Step `position` is over with `outcome` (`indeterminate` at its deadline): the clerk takes
    /// it and either sends its next request or has every group know the outcome.
    func take(_ position: Int, _ client: Client, _ outcome: Outcome) {
        let step = client.operations.remove(at: position)
        client.watermark.finish(step.sequence)
        guard var transaction = client.transaction, let routes = routes as? any TransactionRoutes else { return }
        guard let result = transaction.clerk.receive(outcome) else {
            client.transaction = transaction
            return sendStep(client, routes, backingOff: outcome == .fail(.refused))
        }
        client.transaction = nil
        let configuration = transaction.configuration
        ledger.finish(transaction.open, result, at: now) { configuration.owner(of: Bucket.of(key: $0, count: configuration.owners.count)) }
        // An abort may come from a table that moved on (a group voted "wrong group"): read it again.
        if result != .committed { routes.refresh() }
        think(client)
    }
}
