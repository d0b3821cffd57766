import ConsensusCore
import KVStore
import Raft
import Sharding
import Simulator

/// A sharded store in the simulator (eraft's sharded KV, 6.824's lab 4): server groups of Raft
/// nodes each running `ShardStore`; a metaserver, a Raft group running the plain store, holding the
/// chain of configurations through `MetaClerk`; an operator that makes the configuration changes
/// the scenario schedules; and a `ShardController` that polls the metaserver and moves buckets as
/// the chain grows. Every group is a `Simulation<Raft>` of its own — its own network, faults and
/// seed — and all are stepped together one simulated millisecond at a time, so one clock orders
/// every group's history. Groups talk to each other only through the controller and the clients,
/// as they do in eraft (the controller's commands travel the client path of each group).
public final class ShardedDeployment {
    public let buckets: Int
    /// How long a client or the controller waits for an answer before it gives the request up.
    public let timeout: TimeSpan
    public private(set) var groups: [GroupID: Simulation<Raft>] = [:]
    public let metaserver: Simulation<Raft>
    /// Every simulation: the groups in id order, then the metaserver (stepped every millisecond).
    private let simulations: [Simulation<Raft>]
    /// Every group, in id order (the order of node numbering in the merged result).
    public let groupIDs: [GroupID]
    /// The versions the operator made, in order.
    public private(set) var versions: [ShardConfiguration] = []
    /// Each change the operator made: when it was asked for, when its version existed, and which.
    public private(set) var changesMade: [MadeChange] = []
    /// Every bucket move the controller carried out, in the order they finished.
    public var migrations: [MigrationWindow] { migrationLog.windows }
    private var migrationLog = MigrationLog()
    /// Changes refused by the metaserver (a scenario's are validated before the run, so none there).
    public private(set) var refusals: [(change: ConfigurationChange, result: MetaClerk.Result)] = []
    /// Stops the controller between a bucket's export and its install, to hold a move half done.
    public var holdMoves = false
    /// How often an idle controller asks the metaserver for versions it does not know.
    public static let pollEvery = TimeSpan.milliseconds(50)

    /// A request in flight: to which group's simulation, and its position in that history.
    public struct InFlight {
        let sim: Simulation<Raft>
        public let operation: Int
    }

    public struct MadeChange: Sendable {
        public var requested: Instant
        public var made: Instant
        public var change: ConfigurationChange
        public var version: ShardConfiguration

        public init(requested: Instant, made: Instant, change: ConfigurationChange, version: ShardConfiguration) {
            self.requested = requested
            self.made = made
            self.change = change
            self.version = version
        }
    }

    private var operatorQueue: [(at: Instant, change: ConfigurationChange)] = []
    private var operating: (clerk: MetaClerk, request: InFlight, requested: Instant, change: ConfigurationChange)?
    private var mover = Mover.idle
    /// The versions the controller has brought every group to.
    private var moverVersions: [ShardConfiguration] = []
    private var nextPoll = Instant.zero

    /// The controller's life: idle between polls, reading versions it does not know from the
    /// metaserver (one query per number), then moving buckets to the latest one.
    private enum Mover {
        case idle
        case fetching(MetaClerk, known: [ShardConfiguration], InFlight?)
        case moving(ShardController, known: [ShardConfiguration], InFlight?)
    }

    /// `config(scope)` configures the simulation of a group or of the metaserver; `options` are
    /// every group's Raft options (the groups' state machine is set here, with `bug` planted).
    public init(groups ids: [GroupID], buckets: Int, options: RaftOptions = RaftOptions(), bug: ShardStore.Bug = .none,
                config: (GroupScope) -> SimulationConfig) {
        self.buckets = buckets
        groupIDs = ids.sorted()
        for id in groupIDs {
            var groupOptions = options
            groupOptions.stateMachine = ShardStore.recipe(group: id, buckets: buckets, bug: bug)
            groups[id] = Simulation<Raft>(config: config(.group(id)), options: groupOptions)
        }
        let metaConfig = config(.metaserver)
        metaserver = Simulation<Raft>(config: metaConfig, options: options)
        simulations = groupIDs.map { [groups] in groups[$0]! } + [metaserver]
        timeout = metaConfig.workload.timeout
    }

    /// The deployment's clock: every simulation's.
    public var now: Instant { metaserver.now }

    public var latest: ShardConfiguration { versions.last ?? .initial(buckets: buckets) }

    // MARK: Running

    public func run(for duration: TimeSpan, each: () -> Void = {}) { run(until: now + duration, each: each) }

    /// Steps every simulation one millisecond at a time until `time`, calling `each` after each.
    public func run(until time: Instant, each: () -> Void = {}) {
        while now < time {
            let next = min(time, now + .milliseconds(1))
            for sim in simulations { sim.run(until: next) }
            driveOperator()
            driveController()
            each()
        }
    }

    /// Asks the metaserver for `change` at `time`: the operator makes scheduled changes one at a
    /// time, in the order of their times.
    public func schedule(_ change: ConfigurationChange, at time: Instant) {
        let position = operatorQueue.firstIndex { $0.at > time } ?? operatorQueue.count
        operatorQueue.insert((time, change), at: position)
    }

    /// Makes a change now, running everything until the metaserver holds its version.
    public func change(_ change: ConfigurationChange, each: () -> Void = {}) throws {
        let made = changesMade.count, refused = refusals.count
        schedule(change, at: now)
        while changesMade.count == made, refusals.count == refused { run(for: .milliseconds(1), each: each) }
        if refusals.count > refused { throw ChangeRefused(result: refusals.last!.result) }
    }

    public struct ChangeRefused: Error {
        public let result: MetaClerk.Result
    }

    /// Until the controller has moved every bucket to the latest version made here.
    public var migrating: Bool {
        if case .idle = mover { return moverVersions.count < versions.count }
        return true
    }

    /// Runs until the controller is done (or `limit` passes), calling `each` every millisecond.
    public func settle(within limit: TimeSpan = .seconds(60), each: () -> Void = {}) {
        let end = now + limit
        while migrating || operating != nil || !operatorQueue.isEmpty, now < end { run(for: .milliseconds(1), each: each) }
    }

    // MARK: Requests

    /// The outcome of `request` once it has one, or once its client would have given up.
    public func answered(_ request: InFlight) -> Outcome? {
        let entry = request.sim.history[request.operation]
        return entry.outcome != .indeterminate || request.sim.now >= entry.invoke + timeout + .milliseconds(1) ? entry.outcome : nil
    }

    /// Sends `command` to the group's leader as the simulation knows it (or, with none, to a node
    /// chosen by `turn`), through a client of that simulation that re-sends and follows redirects.
    public func submit(_ command: Command, to sim: Simulation<Raft>, turn: Int) -> InFlight {
        let node = sim.currentLeader ?? sim.cluster[turn % sim.cluster.count]
        return InFlight(sim: sim, operation: sim.submit(command, via: node))
    }

    public func submit(_ command: Command, to group: GroupID, turn: Int) -> InFlight { submit(command, to: groups[group]!, turn: turn) }

    // MARK: The operator

    private func driveOperator() {
        if let (clerk, request, requested, change) = operating {
            guard let outcome = answered(request) else { return }
            var next = clerk
            switch next.receive(outcome) {
            case nil:
                operating = (next, submit(next.command, to: metaserver, turn: ticks), requested, change)
            case .version(let version)?:
                versions.append(version)
                changesMade.append(MadeChange(requested: requested, made: now, change: change, version: version))
                operating = nil
            case let refused?:
                refusals.append((change, refused))
                operating = nil
            }
            return
        }
        guard let first = operatorQueue.first, first.at <= now else { return }
        operatorQueue.removeFirst()
        let clerk = MetaClerk(.change(first.change), tag: "change\(changesMade.count + refusals.count + 1)", buckets: buckets, known: latest)
        operating = (clerk, submit(clerk.command, to: metaserver, turn: ticks), now, first.change)
    }

    /// Milliseconds since the start: spreads retries over a group's nodes when none leads.
    private var ticks: Int { Int(now.microseconds / 1_000) }

    // MARK: The controller

    private func driveController() {
        switch mover {
        case .idle:
            guard now >= nextPoll else { return }
            nextPoll = now + Self.pollEvery
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
                let step = controller.request
                controller.receive(outcome)
                if let step, controller.request != step { migrationLog.note(step, known: known, at: now) }
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

    // MARK: Inspection

    /// A node's number in the deployment as a whole: the groups' nodes in group order (g1's n1…n3
    /// are n1…n3, g2's are n4…n6, …), then the metaserver's.
    public func globalNode(_ node: NodeID, of scope: GroupScope) -> NodeID {
        let sizes = groupIDs.map { (GroupScope.group($0), groups[$0]!.cluster.count) } + [(GroupScope.metaserver, metaserver.cluster.count)]
        return NodeID(ShardedParts.offset(of: scope, sizes: sizes) + node.index + 1)
    }

    /// The store of `group`'s leader (or of its first node).
    public func store(_ group: GroupID) -> ShardStore {
        guard let store = liveStore(group) else { preconditionFailure("every node of \(group) is down") }
        return store
    }

    /// The store of `group`'s leader, or of its lowest-numbered live node; nil when all are down.
    func liveStore(_ group: GroupID) -> ShardStore? {
        let sim = groups[group]!
        let live = stores(group)
        return sim.currentLeader.flatMap { live[$0] } ?? live.keys.min().flatMap { live[$0] }
    }

    /// The stores of `group`'s nodes that are up.
    func stores(_ group: GroupID) -> [NodeID: ShardStore] {
        let sim = groups[group]!
        var stores: [NodeID: ShardStore] = [:]
        for node in sim.cluster { if let backend = sim.backend(node) { stores[node] = backend.store as? ShardStore } }
        return stores
    }

    /// Every group's client operations, as one history on the shared clock (operation ids made
    /// unique across groups; client ids already are), without the controller's commands.
    public var history: [HistoryOperation] { history(issuers: [:]) }

    /// The history, each operation labelled with the client that issued it where `issuers` (per
    /// group, by position in the group's history) knows it, and with its node numbered as
    /// `globalNode` numbers it when `globalNodes` is set.
    public func history(issuers: [GroupID: [Int: ClientID]], globalNodes: Bool = false) -> [HistoryOperation] {
        var all: [(group: GroupID, operation: HistoryOperation)] = []
        for id in groupIDs {
            for (index, var operation) in groups[id]!.history.enumerated() where operation.command.key != ShardControl.key {
                if let client = issuers[id]?[index] { operation.client = client }
                if globalNodes { operation.node = globalNode(operation.node, of: .group(id)) }
                all.append((id, operation))
            }
        }
        all.sort { ($0.operation.invoke, $0.group, $0.operation.id) < ($1.operation.invoke, $1.group, $1.operation.id) }
        return all.enumerated().map { index, entry in
            var operation = entry.operation
            operation.id = index + 1
            return operation
        }
    }

    /// What clients can read now, for lost-write detection: each bucket's keys as the group serving
    /// it holds them (its leader's store, which has everything the group committed; the replicas'
    /// agreement is checked apart, as divergence) — decided per bucket, never per key, so that a stale copy
    /// elsewhere cannot stand in for a key the owner lost); a bucket served by no group, as the
    /// group it is leaving holds it (frozen, not lost). And every bucket more than one group
    /// serves, which the rules of `ShardStore` exclude.
    public func servedState() -> (state: [String: String], servedTwice: [Bucket: [GroupID]]) {
        var held: [GroupID: HeldBuckets] = [:]
        for id in groupIDs { if let store = liveStore(id) { held[id] = HeldBuckets(states: store.buckets, data: store.data) } }
        return Self.servedState(held, buckets: buckets)
    }

    /// What one group's replica holds: each bucket's state and every key of the buckets it holds.
    public struct HeldBuckets: Sendable {
        public var states: [BucketState]
        public var data: [String: String]

        public init(states: [BucketState], data: [String: String]) {
            self.states = states
            self.data = data
        }
    }

    /// `servedState()` from what each group's serving replica holds (a group all of whose nodes
    /// are down is absent): shared by the simulator and the real driver.
    public static func servedState(_ held: [GroupID: HeldBuckets], buckets: Int) -> (state: [String: String], servedTwice: [Bucket: [GroupID]]) {
        var serving: [Int: [GroupID]] = [:], leaving: [Int: GroupID] = [:]
        for id in held.keys.sorted() {
            for (index, state) in held[id]!.states.enumerated() {
                switch state {
                case .serving: serving[index, default: []].append(id)
                case .leaving: if leaving[index] == nil { leaving[index] = id }
                case .pulling, .absent: break
                }
            }
        }
        var state: [String: String] = [:]
        for (id, holding) in held {
            for (key, value) in holding.data {
                let bucket = Bucket.of(key: key, count: buckets).index
                if serving[bucket]?.first ?? leaving[bucket] == id { state[key] = value }
            }
        }
        let twice = serving.filter { $0.value.count > 1 }
        return (state, Dictionary(uniqueKeysWithValues: twice.map { (Bucket($0.key), $0.value) }))
    }
}
