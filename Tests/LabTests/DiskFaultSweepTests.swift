import ConformanceSuite
import Lab
import Testing

/// The conformance suite's disk-faults sweep judges each run by the damage its disks took; this
/// checks that the sweep's faults do reach the write-ahead log's recovery, so that a pass there is
/// not a run that never met a damaged log.
@Suite struct DiskFaultSweepTests {
    @Test func theDiskFaultsSweepMeetsTornTailsAndCorruptRecords() throws {
        let scenarios = try ScenarioFile.load(path: Conformance.scenarioPath("disk-faults"))
        #expect(scenarios[0].storage.engine == .file)
        let specs = Runner.plan(experiment: scenarios[0].name, scenarios: scenarios, backendFilter: ["raft"], seeds: Array(1...6))
            .filter { $0.backend.label == "raft" }
        #expect(specs.count == 6)
        let damage = Runner.run(specs).map { Conformance.DiskDamage($0.result) }
        #expect(damage.contains { $0.repairs > 0 }, "some restart repaired a torn tail")
        #expect(damage.contains { !$0.refused.isEmpty }, "some restart refused a corrupt record")
    }
}
