import ConformanceSuite
import ConsensusCore
import KVStore
import Raft
import Simulator
import Testing

/// Client sessions expire at the same entry on every server (thesis §6.3): each entry carries its
/// leader's clock, and the state machine expires sessions by those stamps only.
@Suite struct SessionTests {
    /// Through a leader crash and restart, with snapshots small enough that followers are caught
    /// up by InstallSnapshot (which carries the sessions), every server ends with the same data,
    /// sessions and session clock.
    @Test(arguments: [RaftOptions.ReadMode.readIndex, .log])
    func serversExpireSessionsAlike(read: RaftOptions.ReadMode) {
        var options = RaftOptions()
        options.sessions = SessionExpiry.sessions
        options.read = read
        options.snapshotThreshold = 40
        let faults = [FaultStep(at: .zero + .seconds(3), .crash(.leader)), FaultStep(at: .zero + .seconds(4), .restart(.affected))]
        let failures = SessionExpiry.check(Raft.self, options: options, config: SessionExpiry.config(seed: 3, faults: faults)) { $0.store as? KVStore }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
