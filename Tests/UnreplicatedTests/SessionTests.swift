import ConformanceSuite
import ConsensusCore
import KVStore
import Simulator
import Testing
import Unreplicated

/// The server's only other replica is its log: a restart replays each write at the server's stamp
/// when it accepted it, so sessions expire after the restart exactly where they would have.
@Suite struct SessionTests {
    @Test func sessionsExpireThroughAServerRestart() {
        var options = Unreplicated.Options()
        options.sessions = SessionExpiry.sessions
        let faults = [FaultStep(at: .zero + .seconds(3), .crash(.id(NodeID(1)))), FaultStep(at: .zero + .seconds(3) + .milliseconds(400), .restart(.affected))]
        let failures = SessionExpiry.check(Unreplicated.self, options: options, config: SessionExpiry.config(seed: 3, faults: faults)) {
            $0.id == $0.server ? $0.store : nil
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Driven by hand: the replayed server holds the same sessions as the one that ran, and both
    /// refuse a client idle past the timeout and serve one that is not.
    @Test func aRestartReplaysTheSessionsOfTheLog() throws {
        var options = Unreplicated.Options()
        options.sessions.timeout = .seconds(1)
        let cluster = NodeID.cluster(1)
        var server = Unreplicated(id: NodeID(1), cluster: cluster, options: options, recovered: .empty, seed: 0)
        var log: [StampedRequest] = []
        func step(_ node: inout Unreplicated, _ request: ClientRequest, at ms: Int64) -> ReplyStatus? {
            var out = Effects<Unreplicated>()
            node.step(.client(request), at: .zero + .milliseconds(ms), into: &out)
            for case .append(_, let entries) in out.storage { log += entries }
            return out.replies.first?.status
        }
        let idle = ClientRequest(client: ClientID(1), sequence: 1, command: .put(key: "a", value: "1"))
        let busy = ClientRequest(client: ClientID(2), sequence: 1, command: .put(key: "b", value: "1"))
        #expect(step(&server, idle, at: 0) == .ok(.done))
        #expect(step(&server, busy, at: 800) == .ok(.done))
        let restarted = Unreplicated(id: NodeID(1), cluster: cluster, options: options, recovered: RecoveredState(entries: log), seed: 0)
        #expect(restarted.store == server.store, "the same data, sessions and clock")
        let idleAgain = ClientRequest(client: ClientID(1), sequence: 2, command: .put(key: "a", value: "2"), ackedThrough: 1, established: true)
        let busyAgain = ClientRequest(client: ClientID(2), sequence: 2, command: .put(key: "b", value: "2"), ackedThrough: 1, established: true)
        for var node in [server, restarted] {
            #expect(step(&node, idleAgain, at: 1_500) == .rejected(.sessionExpired), "idle 1.5 s by the stamps")
            #expect(step(&node, busyAgain, at: 1_500) == .ok(.done), "idle 0.7 s")
            #expect(node.store.data == ["a": "1", "b": "2"])
        }
    }
}
