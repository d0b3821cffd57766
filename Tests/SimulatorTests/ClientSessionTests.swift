import ConsensusCore
import Simulator
import Testing
import Unreplicated

/// How the simulator's clients live with sessions: what they send, and what `sessionExpired` does
/// to the history.
@Suite struct ClientSessionTests {
    /// Sessions that expire after 5 ms, clients that think 20 ms: each client's first put opens a
    /// session and is answered; its second finds the session expired. That operation stays
    /// indeterminate (never a failure: an earlier copy may have been applied), and the client goes
    /// on under a new id, whose first put opens a new session.
    @Test func anExpiredSessionLeavesTheOperationIndeterminateAndTheClientRenews() {
        var config = SimulationConfig(nodes: 1, seed: 2, duration: .seconds(1), quiescence: .milliseconds(100))
        config.workload = WorkloadConfig(clientsPerNode: 1, mode: .closed(think: .fixed(.milliseconds(20))), keys: 2,
                                         mix: .init(get: 0, put: 1, append: 0, cas: 0, delete: 0))
        var options = Unreplicated.Options()
        options.sessions.timeout = .milliseconds(5)
        let history = Simulation<Unreplicated>(config: config, options: options).run().history
        #expect(history.count > 20)
        for (position, operation) in history.enumerated() {
            if position % 2 == 0 {
                #expect(operation.outcome == .ok(.done) && operation.client == ClientID(position / 2 + 1), "\(operation)")
            } else {
                #expect(operation.outcome == .indeterminate && operation.complete == nil, "\(operation)")
                #expect(operation.client == history[position - 1].client, "the same session's second put")
            }
        }
    }

    /// What a client sends: with each request its watermark, everything finished before it. The
    /// server's session of each client therefore holds only the answer of its last write, just
    /// above the watermark that write carried.
    @Test func requestsCarryTheWatermark() {
        var config = SimulationConfig(nodes: 1, seed: 3, duration: .milliseconds(500), quiescence: .milliseconds(100))
        config.workload = WorkloadConfig(clientsPerNode: 3, mode: .closed(think: .fixed(.milliseconds(5))), keys: 2)
        let simulation = Simulation<Unreplicated>(config: config)
        let history = simulation.run().history
        let sessions = simulation.backend(NodeID(1))!.store.sessions.sessions
        for client in Set(history.map(\.client)) {
            let operations = history.filter { $0.client == client }
            let lastWrite = UInt64(operations.lastIndex { !$0.command.isRead }! + 1)
            #expect(sessions[client]?.watermark == lastWrite - 1, "\(client)")
            #expect(sessions[client]?.records.map(\.sequence) == [lastWrite], "\(client)")
        }
    }
}
