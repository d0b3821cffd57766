import ConformanceSuite
import ConsensusCore
import PrimaryBackup
import Simulator
import Testing

/// Client sessions expire at the same write on every replica: backups apply the primary's writes
/// at the primary's stamps, and a full resync carries the sessions with the data.
@Suite struct SessionTests {
    /// The primary crashes, a backup takes over, the old primary comes back as a backup and
    /// resynchronises: every replica ends with the same data, sessions and session clock.
    @Test func replicasExpireSessionsAlike() {
        var options = PrimaryBackupOptions()
        options.sessions = SessionExpiry.sessions
        let faults = [FaultStep(at: .zero + .seconds(3), .crash(.leader)), FaultStep(at: .zero + .seconds(5), .restart(.affected))]
        let failures = SessionExpiry.check(PrimaryBackup.self, options: options, config: SessionExpiry.config(seed: 3, faults: faults)) { $0.store }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
