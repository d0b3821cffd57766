import Checker
import ConsensusCore
import KVStore
import Simulator

/// Client sessions that expire, checked the same way for every backend family.
///
/// Raft thesis §6.3: replicas must agree on when a session expires, so the time comes from the
/// stamps of the ordered requests, never from a replica's own clock. The run makes clients pause
/// longer than the session timeout now and then (so sessions expire, their clients are refused
/// `sessionExpired` and carry on under new ids), crashes and restarts nodes through `faults`, and
/// then asks: did sessions expire and clients renew; is the history still linearizable (an expired
/// session's requests are indeterminate, never applied twice); do all replicas hold the same data
/// *and the same sessions*; and does the table hold only recent sessions (it does not grow)?
public enum SessionExpiry {
    /// Sessions end after 500 ms without requests; four answers kept per session.
    public static let sessions: SessionOptions = {
        var options = SessionOptions()
        options.timeout = .milliseconds(500)
        options.maxResults = 4
        return options
    }()

    /// Closed-loop clients thinking up to 900 ms between operations: many pauses outlast the
    /// session timeout. Clients give up after 300 ms, well within it.
    public static func config(seed: UInt64, nodes: Int = 3, faults: [FaultStep] = []) -> SimulationConfig {
        var config = SimulationConfig(nodes: nodes, seed: seed, duration: .seconds(8), quiescence: .seconds(2))
        config.workload = WorkloadConfig(clientsPerNode: 2, mode: .closed(think: .uniform(.milliseconds(5)...(.milliseconds(900)))),
                                         keys: 4, timeout: .milliseconds(300), retryInterval: .milliseconds(100))
        config.faults = faults
        return config
    }

    /// Runs `B` with `options` (whose sessions should be `sessions`) and returns what is wrong.
    /// `store` reads a node's replicated state machine; `nil` for a node that holds none.
    public static func check<B: LabBackend>(_: B.Type, options: B.Options, config: SimulationConfig,
                                                    store: (B) -> KVStore?) -> [String] {
        let simulation = Simulation<B>(config: config, options: options)
        let result = simulation.run()
        var failures: [String] = []
        let initialClients = config.nodes * config.workload.clientsPerNode
        let renewed = Set(result.history.map(\.client)).count - initialClients
        if renewed < 3 { failures.append("only \(renewed) clients renewed an expired session: the run does not exercise expiry") }
        do {
            let report = try Checker.check(CheckInput(history: result.history))
            if report.linearizable != .linearizable { failures.append("history not linearizable: \(report.linearizable)") }
        } catch {
            failures.append("history rejected: \(error)")
        }
        let stores = simulation.cluster.compactMap { node in simulation.backend(node).flatMap(store).map { (node, $0) } }
        guard let (first, reference) = stores.first else { return failures + ["no node holds a replica"] }
        for (node, other) in stores.dropFirst() where other != reference {
            failures.append("\(node) differs from \(first): data \(other.data == reference.data ? "equal" : "differs"), "
                + "\(other.sessions.sessions.count) sessions at \(other.sessions.clock) against \(reference.sessions.sessions.count) at \(reference.sessions.clock)")
        }
        // The sweep keeps only sessions active within the last two timeouts of the store's clock.
        let table = reference.sessions
        if let stale = table.sessions.first(where: { table.clock - $0.value.lastActive > table.options.timeout * 2 }) {
            failures.append("session of \(stale.key) idle since \(stale.value.lastActive) still held at \(table.clock)")
        }
        return failures
    }
}
