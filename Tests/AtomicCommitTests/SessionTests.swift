import AtomicCommit
import ConformanceSuite
import ConsensusCore
import KVStore
import Simulator
import Testing
import ThreePhaseCommit
import TwoPhaseCommit

/// Atomic commit keeps client sessions at the coordinator (the node the client writes to), by the
/// coordinator's clock; a restart rebuilds them from the times in its log.
@Suite struct SessionTests {
    /// Sessions expire and clients renew; replicas agree on the data (their stores hold no
    /// sessions: participants apply transactions in different orders). 2PC also through a crash of
    /// a coordinator and its restart.
    @Test func twoPhaseCommitExpiresSessions() {
        var options = TwoPhaseCommit.Options()
        options.sessions = SessionExpiry.sessions
        let faults = [FaultStep(at: .zero + .seconds(3), .crash(.id(NodeID(2)))), FaultStep(at: .zero + .seconds(3) + .milliseconds(300), .restart(.affected))]
        let failures = SessionExpiry.check(TwoPhaseCommit.self, options: options, config: SessionExpiry.config(seed: 3, faults: faults)) { $0.core.store }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func threePhaseCommitExpiresSessions() {
        var options = ThreePhaseCommit.Options()
        options.sessions = SessionExpiry.sessions
        let failures = SessionExpiry.check(ThreePhaseCommit.self, options: options, config: SessionExpiry.config(seed: 3)) { $0.core.store }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// A restarted coordinator judges idleness by the times in its log, not by its restart: the
    /// client idle past the timeout is refused before and after the restart alike, the recently
    /// active one is served by both.
    @Test func aRestartedCoordinatorExpiresByTheTimesInItsLog() throws {
        var options = TwoPhaseCommit.Options()
        options.sessions.timeout = .seconds(1)
        let cluster = [NodeID(1)]
        var live = TwoPhaseCommit(id: NodeID(1), cluster: cluster, options: options, recovered: .empty, seed: 0)
        var records: [TransactionRecord] = []
        func step(_ node: inout TwoPhaseCommit, _ request: ClientRequest, at ms: Int64) -> ReplyStatus? {
            var out = Effects<TwoPhaseCommit>()
            node.step(.client(request), at: .zero + .milliseconds(ms), into: &out)
            for case .append(_, let entries) in out.storage { records += entries }
            return out.replies.first?.status
        }
        #expect(step(&live, ClientRequest(client: ClientID(1), sequence: 1, command: .put(key: "a", value: "1")), at: 0) == .ok(.done))
        #expect(step(&live, ClientRequest(client: ClientID(2), sequence: 1, command: .put(key: "b", value: "1")), at: 800) == .ok(.done))
        let restarted = TwoPhaseCommit(id: NodeID(1), cluster: cluster, options: options, recovered: RecoveredState(entries: records), seed: 0)
        let idle = ClientRequest(client: ClientID(1), sequence: 2, command: .put(key: "a", value: "2"), ackedThrough: 1, established: true)
        let busy = ClientRequest(client: ClientID(2), sequence: 2, command: .put(key: "b", value: "2"), ackedThrough: 1, established: true)
        for var node in [live, restarted] {
            #expect(step(&node, idle, at: 1_500) == .rejected(.sessionExpired))
            #expect(step(&node, busy, at: 1_500) == .ok(.done))
            #expect(node.appliedData == ["a": "1", "b": "2"])
        }
    }

    /// Several writes of one client under way at once, each its own transaction, each answered
    /// once; a retry while one is undecided starts nothing.
    @Test func aClientMayHaveSeveralTransactionsUnderWay() throws {
        var coordinator = TwoPhaseCommit(id: NodeID(1), cluster: NodeID.cluster(2), options: .init(), recovered: .empty, seed: 0)
        let writes = (1...3).map { ClientRequest(client: ClientID(1), sequence: UInt64($0), command: .put(key: "k\($0)", value: "v")) }
        var started: [TransactionID] = []
        for write in writes {
            var out = Effects<TwoPhaseCommit>()
            coordinator.step(.client(write), at: .zero, into: &out)
            for outgoing in out.messages { if case .voteRequest(let id, _) = outgoing.message.body { started.append(id) } }
        }
        #expect(started.count == 3)
        var retry = Effects<TwoPhaseCommit>()
        coordinator.step(.client(writes[1]), at: .zero + .milliseconds(1), into: &retry)
        #expect(retry.isEmpty, "in progress")
        var answers: [ClientReply] = []
        for id in started.reversed() {
            var out = Effects<TwoPhaseCommit>()
            coordinator.step(.receive(from: NodeID(2), message: .init(.vote(id, yes: true))), at: .zero + .milliseconds(2), into: &out)
            answers += out.replies
        }
        #expect(answers.map(\.sequence) == [3, 2, 1] && answers.allSatisfy { $0.status == .ok(.done) })
    }
}
