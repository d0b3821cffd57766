import Checker
import ConsensusCore
import KVStore
import Raft
import Simulator
import Testing
@testable import Sharding

/// A sharded store in the simulator: server groups of three Raft nodes each running `ShardStore`,
/// a metaserver (three Raft nodes running the plain store, the chain kept in it by `MetaClerk`),
/// all stepped together one simulated millisecond at a time (so one clock orders every group's
/// history); a `ShardController` that polls the metaserver and moves buckets as the chain grows;
/// and clients that route each operation by the configuration they know and look the table up in
/// the metaserver again when a group answers "wrong group".
final class ShardedDeployment {
    let buckets: Int
    static let timeout = TimeSpan.seconds(1)
    var timeout: TimeSpan { Self.timeout }
    private(set) var groups: [GroupID: Simulation<Raft>] = [:]
    let metaserver: Simulation<Raft>
    /// The chain from version 1 up, as the changes made here created it.
    private(set) var versions: [ShardConfiguration] = []
    private var mover = Mover.idle
    /// Stops the controller between a bucket's export and its install, to hold a move half done.
    var holdMoves = false
    private(set) var ticks = 0
    /// How often an idle controller asks the metaserver for versions it does not know.
    static let pollEvery = 50

    /// A request in flight: to which simulation, and its position in that simulation's history.
    struct InFlight {
        let sim: Simulation<Raft>
        let operation: Int
    }

    /// The controller's life: idle between polls, reading versions it does not know from the
    /// metaserver (one query per number), then moving buckets to the latest one.
    private enum Mover {
        case idle
        case fetching(MetaClerk, known: [ShardConfiguration], InFlight?)
        case moving(ShardController, known: [ShardConfiguration], InFlight?)
    }
    private var moverVersions: [ShardConfiguration] = []

    init(groups ids: [Int], buckets: Int, seed: UInt64, snapshotThreshold: Int? = nil, network: LinkProfile = LinkProfile()) {
        self.buckets = buckets
        func config(_ offset: Int) -> SimulationConfig {
            var config = SimulationConfig(nodes: 3, seed: seed &+ UInt64(offset), duration: .seconds(100_000), quiescence: .zero, healAtEnd: false,
                                          network: network)
            config.workload.clientsPerNode = 0
            config.workload.timeout = Self.timeout
            config.firstClientID = offset * 1_000_000
            return config
        }
        for id in ids {
            var options = RaftOptions()
            options.stateMachine = ShardStore.recipe(group: GroupID(id), buckets: buckets)
            if let snapshotThreshold { options.snapshotThreshold = snapshotThreshold }
            groups[GroupID(id)] = Simulation<Raft>(config: config(id), options: options)
        }
        metaserver = Simulation<Raft>(config: config(999), options: RaftOptions())
        run(for: .seconds(2))  // every group elects a leader
    }

    var latest: ShardConfiguration { versions.last ?? .initial(buckets: buckets) }

    /// Makes a change through the metaserver (a clerk's requests, until it has its version),
    /// running everything meanwhile; the controller finds the new version at its next poll.
    func change(_ change: ConfigurationChange, each: () -> Void = {}) throws {
        var clerk = MetaClerk(.change(change), tag: "change\(versions.count + 1)", buckets: buckets, known: latest)
        var request = submit(clerk.command, to: metaserver, turn: ticks)
        while true {
            run(for: .milliseconds(1), each: each)
            guard let outcome = answered(request) else { continue }
            switch clerk.receive(outcome) {
            case nil: request = submit(clerk.command, to: metaserver, turn: ticks)
            case .version(let version)?:
                versions.append(version)
                return
            case let refused?: throw ChangeRefused(result: refused)
            }
        }
    }

    struct ChangeRefused: Error {
        let result: MetaClerk.Result
    }

    /// Until the controller has moved every bucket to the latest version made here.
    var migrating: Bool {
        if case .idle = mover { return moverVersions.count < versions.count }
        return true
    }

    func run(for duration: TimeSpan, each: () -> Void = {}) {
        for _ in 0..<Int(duration.microseconds / 1_000) {
            for sim in groups.values { sim.run(for: .milliseconds(1)) }
            metaserver.run(for: .milliseconds(1))
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

    func answered(_ request: InFlight) -> Outcome? {
        let entry = request.sim.history[request.operation]
        return entry.outcome != .indeterminate || request.sim.now >= entry.invoke + timeout + .milliseconds(1) ? entry.outcome : nil
    }

    func submit(_ command: Command, to sim: Simulation<Raft>, turn: Int) -> InFlight {
        let node = sim.currentLeader ?? sim.cluster[turn % sim.cluster.count]
        return InFlight(sim: sim, operation: sim.submit(command, via: node))
    }

    func submit(_ command: Command, to group: GroupID, turn: Int) -> InFlight { submit(command, to: groups[group]!, turn: turn) }

    private func driveController() {
        switch mover {
        case .idle:
            guard ticks % Self.pollEvery == 0 else { return }
            let number = moverVersions.count + 1
            mover = .fetching(MetaClerk(.query(number), tag: "controller", buckets: buckets), known: moverVersions, nil)
            driveController()
        case .fetching(var clerk, var known, let request):
            guard let request else {
                mover = .fetching(clerk, known: known, submit(clerk.command, to: metaserver, turn: ticks))
                return
            }
            guard let outcome = answered(request) else { return }
            guard let result = clerk.receive(outcome) else {
                mover = .fetching(clerk, known: known, submit(clerk.command, to: metaserver, turn: ticks))
                return
            }
            if case .version(let version) = result, version.number == known.count + 1 {
                known.append(version)
                mover = .fetching(MetaClerk(.query(known.count + 1), tag: "controller", buckets: buckets), known: known, nil)
            } else {
                // Asked past the latest version: the chain is known; move to its end.
                mover = known.count > moverVersions.count ? .moving(ShardController(versions: known), known: known, nil) : .idle
            }
        case .moving(var controller, let known, let request):
            if let request {
                guard let outcome = answered(request) else { return }
                controller.receive(outcome)
            }
            guard let step = controller.request else {
                moverVersions = known
                mover = .idle
                return
            }
            if holdMoves, case .install = step.control {
                mover = .moving(controller, known: known, nil)
                return
            }
            mover = .moving(controller, known: known, submit(step.control.command, to: step.group, turn: ticks))
        }
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
/// routes by the configuration it knows; refused, it looks the latest up in the metaserver (a
/// `MetaClerk` query from the version it knows) and tries again.
struct ShardClients {
    private enum State {
        case ready
        case waiting(ShardedDeployment.InFlight, Command)
        case lookingUp(MetaClerk, ShardedDeployment.InFlight, retrying: Command)
    }

    private struct Client {
        var known: ShardConfiguration
        var state = State.ready
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
            switch clients[index].state {
            case .ready:
                send(nextCommand(index), client: index, deployment)
            case .waiting(let request, let command):
                guard let outcome = deployment.answered(request) else { continue }
                clients[index].done += 1
                if outcome == .fail(.refused) {
                    // Wrong group (or no leader yet): look the table up again, then retry.
                    wrongGroupRetries += 1
                    lookUp(retrying: command, client: index, deployment)
                } else {
                    send(nextCommand(index), client: index, deployment)
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
            }
        }
    }

    private mutating func nextCommand(_ index: Int) -> Command {
        let key = keys[random.index(below: keys.count)]
        let value = "c\(index).\(clients[index].done)"
        return switch random.uniform(0...2) {
        case 0: .put(key: key, value: value)
        case 1: .append(key: key, value: value + ";")
        default: .get(key: key)
        }
    }

    private mutating func lookUp(retrying command: Command, client index: Int, _ deployment: ShardedDeployment) {
        let clerk = MetaClerk(.query(nil), tag: "client\(index)", buckets: deployment.buckets, known: clients[index].known)
        clients[index].state = .lookingUp(clerk, deployment.submit(clerk.command, to: deployment.metaserver, turn: index), retrying: command)
    }

    private mutating func send(_ command: Command, client index: Int, _ deployment: ShardedDeployment) {
        guard let owner = clients[index].known.owner(of: Bucket.of(key: command.key, count: deployment.buckets)) else {
            return lookUp(retrying: command, client: index, deployment)
        }
        clients[index].state = .waiting(deployment.submit(command, to: owner, turn: index), command)
    }
}
