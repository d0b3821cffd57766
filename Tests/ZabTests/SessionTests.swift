import ConformanceSuite
import ConsensusCore
import Simulator
import Testing
import Zab

/// Client sessions expire at the same transaction on every server: each transaction carries the
/// leader's clock when it proposed it (Raft thesis §6.3, applied to ZAB's zxid order).
@Suite struct SessionTests {
    /// Through a leader crash and restart, with SNAP synchronisation (small snapCount), every
    /// server ends with the same data, sessions and session clock.
    @Test(arguments: [ZabOptions.ReadMode.local, .sync])
    func serversExpireSessionsAlike(read: ZabOptions.ReadMode) {
        var options = ZabOptions()
        options.sessions = SessionExpiry.sessions
        options.read = read
        options.snapCount = 40
        options.commitLogCount = 10
        let faults = [FaultStep(at: .zero + .seconds(3), .crash(.leader)), FaultStep(at: .zero + .seconds(4), .restart(.affected))]
        let failures = SessionExpiry.check(Zab.self, options: options, config: SessionExpiry.config(seed: 3, faults: faults)) { $0.store }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
