import ConsensusCore
import Foundation
import Glibc
import Runtime
import Simulator

/// The scenario's clients against an external system: a thread per client, each with its own
/// blocking connection (`ExternalConnection`) pinned to its node as our clients are. Operations,
/// think times and open-loop arrivals come from the simulator's streams under the run's seed
/// (`OperationSource`), as `ClientEngine`'s do.
///
/// There is no exactly-once session: a read, or a write that was certainly not applied, is tried
/// again (after `redirectBackoff`) until the workload's `timeout`; a write whose attempt ended
/// without a verdict is never sent again and stays indeterminate, which the checker allows for
/// at any time after its invocation. An open-loop arrival goes to an idle client of its node, or
/// to a new one: each client has one operation in flight.
final class ExternalClients: RunClients, @unchecked Sendable {
    private let workload: WorkloadConfig
    private let seed: UInt64
    private let origin: Instant
    private let duration: TimeSpan
    private let connect: (Int) -> any ExternalConnection
    private let lock = NSLock()
    private var history: [HistoryOperation] = []
    private var clientCount = 0
    private var closed = false
    private let running = DispatchGroup()
    /// Each node's arrival stream (open loop), shared with its clients for `observe`, under `lock`.
    private var arrivals: [OperationSource] = []
    private var idle: [[OpenClient]] = []

    /// `connect(node)` makes a connection for a client of node `node` (it may connect lazily).
    init(nodes: Int, config: SimulationConfig, origin: Instant, connect: @escaping (Int) -> any ExternalConnection) {
        workload = config.workload
        seed = config.seed
        self.origin = origin
        duration = config.duration
        self.connect = connect
        idle = Array(repeating: [], count: nodes)
        switch workload.mode {
        case .closed(let think):
            for node in 0..<nodes {
                for _ in 0..<workload.clientsPerNode { spawn { [self] in closedLoop(node: node, think: think) } }
            }
        case .open(let rate):
            arrivals = (0..<nodes).map { OperationSource(arrivalsAt: $0, seed: seed, workload: workload) }
            if rate > 0 { for node in 0..<nodes { spawn { [self] in openLoop(node: node, rate: rate) } } }
        }
    }

    func finish() -> [HistoryOperation] {
        lock.withLock { closed = true }
        for client in lock.withLock({ idle.flatMap { $0 } }) { client.give(nil) }
        running.wait()
        return lock.withLock { history }
    }

    private var now: Instant { .zero + (MonotonicClock.now() - origin) }
    private var workloadOpen: Bool { now < .zero + duration && !lock.withLock { closed } }

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        running.enter()
        let thread = Thread { [running] in
            body()
            running.leave()
        }
        thread.start()
    }

    private func newClient() -> ClientID { lock.withLock { clientCount += 1; return ClientID(clientCount) } }

    private func sleep(until time: Instant) {
        let left = time - now
        if left > .zero { usleep(UInt32(clamping: left.microseconds)) }
    }

    // MARK: Closed loop

    private func closedLoop(node: Int, think: LatencyDistribution) {
        let id = newClient()
        var source = OperationSource(client: id, seed: seed, workload: workload)
        let connection = connect(node)
        var next = Instant.zero + source.draw(think)
        while true {
            sleep(until: next)
            guard workloadOpen else { return }
            let command = source.next()
            if let result = execute(command, client: id, node: node, on: connection) { source.observe(command, result) }
            next = now + source.draw(think)
        }
    }

    // MARK: Open loop

    /// A client of the open loop: waits for an operation, does it, waits again; nil ends it.
    private final class OpenClient: @unchecked Sendable {
        let id: ClientID
        private let ready = DispatchSemaphore(value: 0)
        private var command: Command?

        init(id: ClientID) { self.id = id }

        func give(_ command: Command?) {
            self.command = command
            ready.signal()
        }

        func take() -> Command? {
            ready.wait()
            return command
        }
    }

    private func openLoop(node: Int, rate: Double) {
        var planned = Instant.zero + lock.withLock { arrivals[node].interArrival(rate: rate) }
        while planned < .zero + duration {
            sleep(until: planned)
            guard workloadOpen else { break }
            let command = lock.withLock { arrivals[node].next() }
            if let client = lock.withLock({ idle[node].popLast() }) {
                client.give(command)
            } else {
                let client = OpenClient(id: newClient())
                spawn { [self] in serve(client, node: node, first: command) }
            }
            planned = planned + lock.withLock { arrivals[node].interArrival(rate: rate) }
        }
    }

    private func serve(_ client: OpenClient, node: Int, first: Command) {
        let connection = connect(node)
        var command: Command? = first
        while let current = command {
            if let result = execute(current, client: client.id, node: node, on: connection) {
                lock.withLock { arrivals[node].observe(current, result) }
            }
            let stop = lock.withLock { () -> Bool in
                if closed { return true }
                idle[node].append(client)
                return false
            }
            if stop { return }
            command = client.take()
        }
    }

    // MARK: One operation

    /// Carries out one operation and records it; the result, when there is one.
    private func execute(_ command: Command, client: ClientID, node: Int, on connection: any ExternalConnection) -> CommandResult? {
        let invoke = now
        let index = lock.withLock {
            history.append(HistoryOperation(id: history.count + 1, client: client, node: NodeID(node + 1), command: command,
                                            invoke: invoke, complete: nil, outcome: .indeterminate))
            return history.count - 1
        }
        let deadline = invoke + workload.timeout
        var outcome = Outcome.indeterminate, result: CommandResult?
        attempts: while true {
            let answer = connection.perform(command)
            switch answer {
            case .ok(.casMismatch):
                outcome = .fail(.casMismatch)
                break attempts
            case .ok(let value):
                outcome = .ok(value)
                result = value
                break attempts
            case .unknown where !command.isRead:
                break attempts
            case .notApplied, .unknown:
                guard now + workload.redirectBackoff < deadline else {
                    // Every attempt at a write was refused: it certainly took no effect.
                    if !command.isRead, case .notApplied = answer { outcome = .fail(.refused) }
                    break attempts
                }
                usleep(UInt32(clamping: workload.redirectBackoff.microseconds))
            }
        }
        let complete = now
        lock.withLock {
            history[index].outcome = outcome
            history[index].complete = outcome == .indeterminate ? nil : complete
        }
        return result
    }
}
