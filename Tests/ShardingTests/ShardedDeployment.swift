import Checker
import ConsensusCore
import KVStore
import Raft
import Simulator
import Testing
@testable import Sharding

/// A sharded store in the simulator: server groups of three Raft nodes each running `ShardStore`,
/// stepped together one simulated millisecond at a time (so one clock orders every group's
/// history), a `ShardController` moving buckets as the configuration chain grows, and clerks that
/// route each operation by the configuration they know and look the table up again when a group
/// answers "wrong group". The chain is kept here; the metaserver that keeps it in a Raft group of
/// its own is `MetaserverTests`'.
final class ShardedDeployment {
    let buckets: Int
    let timeout = TimeSpan.seconds(1)
    private(set) var groups: [GroupID: Simulation<Raft>] = [:]
    /// The configuration chain from version 1 up.
    private(set) var versions: [ShardConfiguration] = []
    private var controller: ShardController?
    private var controllerRequest: (group: GroupID, operation: Int)?
    /// Stops the controller between a bucket's export and its install, to hold a move half done.
    var holdMoves = false
    private(set) var ticks = 0

    init(groups ids: [Int], buckets: Int, seed: UInt64, snapshotThreshold: Int? = nil, network: LinkProfile = LinkProfile()) {
        self.buckets = buckets
        for id in ids {
            var config = SimulationConfig(nodes: 3, seed: seed &+ UInt64(id), duration: .seconds(100_000), quiescence: .zero, healAtEnd: false,
                                          network: network)
            config.workload.clientsPerNode = 0
            config.workload.timeout = timeout
            config.firstClientID = id * 1_000_000
            var options = RaftOptions()
            options.stateMachine = ShardStore.recipe(group: GroupID(id), buckets: buckets)
            if let snapshotThreshold { options.snapshotThreshold = snapshotThreshold }
            groups[GroupID(id)] = Simulation<Raft>(config: config, options: options)
        }
        run(for: .seconds(2))  // every group elects a leader
    }

    var now: Instant { groups.values.first!.now }
    var latest: ShardConfiguration { versions.last ?? .initial(buckets: buckets) }

    /// A change to the configuration table, carried out by a controller from the groups' current
    /// versions on (a controller that restarts from version 1 would do no harm, only take longer).
    func change(_ change: ConfigurationChange) throws {
        versions.append(try latest.applying(change).get())
        controller = ShardController(versions: versions)
        controllerRequest = nil
    }

    var migrating: Bool { !(controller?.isDone ?? true) }

    func run(for duration: TimeSpan, each: () -> Void = {}) {
        for _ in 0..<Int(duration.microseconds / 1_000) {
            for sim in groups.values { sim.run(for: .milliseconds(1)) }
            ticks += 1
            driveController()
            each()
        }
    }

    /// Runs until the controller is done (or `limit` passes), calling `each` every millisecond.
    func settle(within limit: TimeSpan = .seconds(60), each: () -> Void = {}) {
        var left = Int(limit.microseconds / 1_000)
        while migrating, left > 0 {
            run(for: .milliseconds(1), each: each)
            left -= 1
        }
    }

    /// Whether `operation` in `group`'s history has its answer (or has timed out).
    func answered(_ group: GroupID, _ operation: Int) -> Outcome? {
        let sim = groups[group]!, entry = sim.history[operation]
        return entry.outcome != .indeterminate || sim.now >= entry.invoke + timeout + .milliseconds(1) ? entry.outcome : nil
    }

    func submit(_ command: Command, to group: GroupID, turn: Int) -> Int {
        let sim = groups[group]!
        let node = sim.currentLeader ?? sim.cluster[turn % sim.cluster.count]
        return sim.submit(command, via: node)
    }

    private func driveController() {
        guard var controller else { return }
        if let (group, operation) = controllerRequest {
            guard let outcome = answered(group, operation) else { return }
            controller.receive(outcome)
            controllerRequest = nil
        }
        self.controller = controller
        guard let step = controller.request else { return }
        if holdMoves, case .install = step.control { return }
        controllerRequest = (step.group, submit(step.control.command, to: step.group, turn: ticks))
    }

    /// The store of `group`'s leader (or of its first node).
    func store(_ group: GroupID) -> ShardStore {
        let sim = groups[group]!
        return sim.backend(sim.currentLeader ?? sim.cluster[0])!.store as! ShardStore
    }

    /// Every group's client operations, as one history on the shared clock (operation ids made
    /// unique across groups; client ids already are), without the controller's commands.
    var history: [HistoryOperation] {
        var all: [(group: Int, operation: HistoryOperation)] = []
        for (id, sim) in groups {
            for operation in sim.history where operation.command.key != ShardControl.key {
                all.append((id.rawValue, operation))
            }
        }
        all.sort { ($0.operation.invoke, $0.group, $0.operation.id) < ($1.operation.invoke, $1.group, $1.operation.id) }
        return all.enumerated().map { index, entry in
            var operation = entry.operation
            operation.id = index
            return operation
        }
    }

    /// Every key as the groups serving it hold it now.
    var finalState: [String: String] {
        var state: [String: String] = [:]
        for id in groups.keys {
            let store = store(id)
            for (key, value) in store.data where store.buckets[store.bucket(of: key).index] == .serving { state[key] = value }
        }
        return state
    }
}

/// Clients of the sharded store, each with one operation at a time on a few keys: unique values
/// for puts and appends (so the checker can tell every write apart), gets in between. A client
/// routes by the configuration it knows; refused, it takes the latest and tries again.
struct ShardClients {
    private struct Client {
        var known: ShardConfiguration
        var pending: (group: GroupID, operation: Int, command: Command)?
        var done = 0
    }

    private var clients: [Client]
    private let keys: [String]
    private var random: DeterministicRandom
    private(set) var wrongGroupRetries = 0

    init(count: Int, keys: [String], seed: UInt64, known: ShardConfiguration) {
        clients = Array(repeating: Client(known: known), count: count)
        self.keys = keys
        random = DeterministicRandom(seed: seed, label: "shard-clients")
    }

    var completed: Int { clients.map(\.done).reduce(0, +) }

    mutating func step(_ deployment: ShardedDeployment) {
        for index in clients.indices {
            if let pending = clients[index].pending {
                guard let outcome = deployment.answered(pending.group, pending.operation) else { continue }
                clients[index].pending = nil
                clients[index].done += 1
                if outcome == .fail(.refused) {
                    // Wrong group (or no leader yet): look the table up again and retry.
                    wrongGroupRetries += 1
                    clients[index].known = deployment.latest
                    send(pending.command, client: index, deployment)
                    continue
                }
            }
            let key = keys[random.index(below: keys.count)]
            let value = "c\(index).\(clients[index].done)"
            let command: Command = switch random.uniform(0...2) {
            case 0: .put(key: key, value: value)
            case 1: .append(key: key, value: value + ";")
            default: .get(key: key)
            }
            send(command, client: index, deployment)
        }
    }

    private mutating func send(_ command: Command, client index: Int, _ deployment: ShardedDeployment) {
        guard let owner = clients[index].known.owner(of: Bucket.of(key: command.key, count: deployment.buckets)) else {
            clients[index].known = deployment.latest
            return
        }
        clients[index].pending = (owner, deployment.submit(command, to: owner, turn: index), command)
    }
}
