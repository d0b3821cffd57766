import ConsensusCore
import Sharding
import Simulator

/// Closed-loop clients of a sharded store. Each draws its operations from the same stream a
/// client of an unsharded run draws (`OperationSource`, named by its client id), so the values it
/// writes are unique and a compare-and-set expects what it last saw. A client routes each
/// operation by the configuration it knows; refused (a group that does not serve the key's bucket,
/// or a bucket in the middle of a move), it looks the latest configuration up in the metaserver (a
/// `MetaClerk` query) and sends the operation again, as a Redis Cluster client follows MOVED. A
/// client that finds no owner at all (no configuration yet) looks again after `redirectBackoff`.
///
/// With a `transactions` share, that share of a client's operations are cross-shard transactions
/// instead: puts of unique values to `transactionKeys` distinct keys, which the client coordinates
/// itself (`TransactionClerk`: two-phase commit over the groups, the decision in the metaserver).
/// Each write enters the history as an operation of its own spanning the whole transaction, done
/// if it committed and refused if it aborted; each group's replicas' decisions are what the
/// checker's atomicity check compares.
public struct ShardClients {
    private enum State {
        case thinking(until: Instant)
        case waiting(ShardedDeployment.InFlight, Command)
        /// Looking the configuration up, then sending `retrying` again (nil: then thinking).
        case lookingUp(MetaClerk, ShardedDeployment.InFlight, retrying: Command?)
        case backingOff(until: Instant, retrying: Command)
        case transacting(Transaction)
    }

    /// A transaction under way: its clerk, the request in flight, and what the ledger records.
    private struct Transaction {
        var clerk: TransactionClerk
        var open: TransactionLedger.Open
        var request: ShardedDeployment.InFlight?
    }

    /// The share of operations that are cross-shard transactions, and how many keys each writes.
    public struct TransactionMix: Sendable {
        public var share: Double
        public var keys: Int

        public init(share: Double = 0, keys: Int = 2) {
            self.share = share
            self.keys = keys
        }
    }

    private struct Client {
        let id: ClientID
        var source: OperationSource
        var known: ShardConfiguration
        var state: State
        /// Whether the next operation is a transaction, and its keys: a stream of its own, drawn
        /// only when transactions are on, so that without them the operations are the same.
        var transactions: DeterministicRandom
        var transactionCount = 0
    }

    private var clients: [Client]
    private let workload: WorkloadConfig
    private let mix: TransactionMix
    /// The transactions finished so far (`ledger`, once the run is over, has the unfinished too).
    private var transactions = TransactionLedger()
    /// Operations answered or given up, refusals included.
    public private(set) var completed = 0
    /// Operations refused and sent again after a table lookup.
    public private(set) var wrongGroupRetries = 0
    /// Which client issued each client operation of each group's history (by its position there).
    public private(set) var issuers: [GroupID: [Int: ClientID]] = [:]
    /// Clear it to stop issuing new operations (the end of the workload); those in flight finish.
    public var issuing = true

    /// `count` clients numbered from `firstID`, their operations drawn from `seed`.
    public init(count: Int, workload: WorkloadConfig, seed: UInt64, known: ShardConfiguration, firstID: Int = 1,
                transactions mix: TransactionMix = TransactionMix()) {
        self.workload = workload
        self.mix = mix
        clients = (0..<count).map { index in
            let id = ClientID(firstID + index)
            return Client(id: id, source: OperationSource(client: id, seed: seed, workload: workload), known: known, state: .thinking(until: .zero),
                          transactions: DeterministicRandom(seed: seed, label: "transactions-c\(id.rawValue)"))
        }
    }

    /// Called once per step of the deployment: collects answers, sends what is due.
    public mutating func step(_ deployment: ShardedDeployment) {
        for index in clients.indices {
            switch clients[index].state {
            case .thinking(let until):
                guard issuing, deployment.now >= until else { continue }
                if mix.share > 0, clients[index].transactions.nextUnit() < mix.share {
                    begin(client: index, deployment)
                } else {
                    send(clients[index].source.next(), client: index, deployment)
                }
            case .transacting(let transaction):
                drive(transaction, client: index, deployment)
            case .waiting(let request, let command):
                guard let outcome = deployment.answered(request) else { continue }
                completed += 1
                if outcome == .fail(.refused) {
                    wrongGroupRetries += 1
                    lookUp(retrying: command, client: index, deployment)
                } else {
                    if case .ok(let result) = outcome { clients[index].source.observe(command, result) }
                    think(client: index, deployment)
                }
            case .lookingUp(var clerk, let request, let command):
                guard let outcome = deployment.answered(request) else { continue }
                switch clerk.receive(outcome) {
                case .version(let version)?:
                    clients[index].known = version
                    if let command { send(command, client: index, deployment) } else { think(client: index, deployment) }
                case nil, .refused?, .unreadable?:
                    clients[index].state = .lookingUp(clerk, deployment.submit(clerk.command, to: deployment.metaserver, turn: index), retrying: command)
                }
            case .backingOff(let until, let command):
                guard deployment.now >= until else { continue }
                lookUp(retrying: command, client: index, deployment)
            }
        }
    }

    private mutating func think(client index: Int, _ deployment: ShardedDeployment) {
        guard case .closed(let think) = workload.mode else { preconditionFailure("sharded clients are closed-loop") }
        clients[index].state = .thinking(until: deployment.now + clients[index].source.draw(think))
    }

    private mutating func lookUp(retrying command: Command?, client index: Int, _ deployment: ShardedDeployment) {
        let clerk = MetaClerk(.query(nil), tag: "client\(clients[index].id.rawValue)", buckets: deployment.buckets, known: clients[index].known)
        clients[index].state = .lookingUp(clerk, deployment.submit(clerk.command, to: deployment.metaserver, turn: index), retrying: command)
    }

    /// Sends `command` to the owner of its key's bucket; after the end of the workload, a retry
    /// is dropped instead (the refused attempt is the operation's outcome).
    private mutating func send(_ command: Command, client index: Int, _ deployment: ShardedDeployment) {
        guard issuing else {
            clients[index].state = .thinking(until: deployment.now)
            return
        }
        guard let owner = clients[index].known.owner(of: Bucket.of(key: command.key, count: deployment.buckets)) else {
            clients[index].state = .backingOff(until: deployment.now + workload.redirectBackoff, retrying: command)
            return
        }
        let request = deployment.submit(command, to: owner, turn: index)
        issuers[owner, default: [:]][request.operation] = clients[index].id
        clients[index].state = .waiting(request, command)
    }

    // MARK: Transactions

    /// Every transaction, those still under way (the run ended first) abandoned.
    public var ledger: TransactionLedger {
        var ledger = transactions
        for client in clients { if case .transacting(let transaction) = client.state { ledger.abandon(transaction.open) } }
        return ledger
    }

    /// Starts a transaction over distinct keys drawn from the workload's, routed by the known
    /// configuration; with no owner for one of them, looks the configuration up first.
    private mutating func begin(client index: Int, _ deployment: ShardedDeployment) {
        clients[index].transactionCount += 1
        let id = "\(clients[index].id).t\(clients[index].transactionCount)"
        let writes = mix.writes(id: id, keys: workload.keys, random: &clients[index].transactions)
        guard let clerk = TransactionClerk(id: id, writes: writes, configuration: clients[index].known) else {
            return lookUp(retrying: nil, client: index, deployment)
        }
        drive(Transaction(clerk: clerk, open: .init(id: id, client: clients[index].id, writes: writes, started: deployment.now)), client: index, deployment)
    }

    /// Collects the answer to the transaction's request, if any, and sends the next one; records
    /// the writes once every group knows the outcome.
    private mutating func drive(_ transaction: Transaction, client index: Int, _ deployment: ShardedDeployment) {
        var transaction = transaction
        if let request = transaction.request {
            guard let outcome = deployment.answered(request) else { return }
            if let result = transaction.clerk.receive(outcome) {
                finish(transaction, result, client: index, deployment)
                return
            }
        }
        let (target, command) = transaction.clerk.request
        switch target {
        case .group(let group):
            let request = deployment.submit(command, to: group, turn: index)
            transaction.open.nodes[group] = deployment.globalNode(deployment.groups[group]!.history[request.operation].node, of: .group(group))
            transaction.request = request
        case .decisions:
            transaction.request = deployment.submit(command, to: deployment.metaserver, turn: index)
        }
        clients[index].state = .transacting(transaction)
    }

    private mutating func finish(_ transaction: Transaction, _ result: TransactionClerk.Result, client index: Int, _ deployment: ShardedDeployment) {
        completed += 1
        let known = clients[index].known
        transactions.finish(transaction.open, result, at: deployment.now) { known.owner(of: Bucket.of(key: $0, count: deployment.buckets)) }
        // An abort may come from a table that moved on (a group voted "wrong group"): look again.
        if result == .committed { think(client: index, deployment) } else { lookUp(retrying: nil, client: index, deployment) }
    }
}
