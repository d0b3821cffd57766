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
public struct ShardClients {
    private enum State {
        case thinking(until: Instant)
        case waiting(ShardedDeployment.InFlight, Command)
        case lookingUp(MetaClerk, ShardedDeployment.InFlight, retrying: Command)
        case backingOff(until: Instant, retrying: Command)
    }

    private struct Client {
        let id: ClientID
        var source: OperationSource
        var known: ShardConfiguration
        var state: State
    }

    private var clients: [Client]
    private let workload: WorkloadConfig
    /// Operations answered or given up, refusals included.
    public private(set) var completed = 0
    /// Operations refused and sent again after a table lookup.
    public private(set) var wrongGroupRetries = 0
    /// Which client issued each client operation of each group's history (by its position there).
    public private(set) var issuers: [GroupID: [Int: ClientID]] = [:]
    /// Clear it to stop issuing new operations (the end of the workload); those in flight finish.
    public var issuing = true

    /// `count` clients numbered from `firstID`, their operations drawn from `seed`.
    public init(count: Int, workload: WorkloadConfig, seed: UInt64, known: ShardConfiguration, firstID: Int = 1) {
        self.workload = workload
        clients = (0..<count).map { index in
            let id = ClientID(firstID + index)
            return Client(id: id, source: OperationSource(client: id, seed: seed, workload: workload), known: known, state: .thinking(until: .zero))
        }
    }

    /// Called once per step of the deployment: collects answers, sends what is due.
    public mutating func step(_ deployment: ShardedDeployment) {
        for index in clients.indices {
            switch clients[index].state {
            case .thinking(let until):
                guard issuing, deployment.now >= until else { continue }
                send(clients[index].source.next(), client: index, deployment)
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
                    send(command, client: index, deployment)
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

    private mutating func lookUp(retrying command: Command, client index: Int, _ deployment: ShardedDeployment) {
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
}
