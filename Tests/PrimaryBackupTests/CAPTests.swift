import ConsensusCore
import Lab
import PrimaryBackup
import Simulator
import Testing

/// The FAULTS.md rows for the AP backend, on the scenario files the lab runs, with numbers. The lost
/// writes are counted here directly, independently of the checker (whose verdicts on the same row
/// `LabTests.CheckedFaultRowTests` asserts): acknowledged appends absent from the final state. Most
/// files mix puts and compare-and-sets with appends, and a put legitimately erases earlier appends; so the tests
/// run each file's faults and timing with a workload of appends and reads only, where every
/// acknowledged append must be in the final state unless it was lost.
@Suite struct CAPTests {
    let partitionStart = Instant.zero + .seconds(10), partitionEnd = Instant.zero + .seconds(20)

    /// `leader-isolated`: the old primary and one backup are cut off at 10 s. Without
    /// `minReplicasToWrite` the old primary keeps acknowledging writes for the whole partition
    /// (available), and the heal discards them (lost). With `minReplicasToWrite: 2` (a majority of
    /// 5 counting the primary) it refuses them once its acknowledgements are older than
    /// `minReplicasMaxLag`: only writes acknowledged in that window are lost. (With 1, the backup cut
    /// off together with it keeps acknowledging, so 1 is not enough here; see the next test.)
    @Test func leaderIsolated() throws {
        let file = try countable(scenario("leader-isolated"))
        let runSeeds = seeds(default: 2, full: 5)
        let available = try run(file, label: "primary-backup", seeds: runSeeds)
        let guarded = try run(file, label: "primary-backup[minReplicasToWrite=2]", seeds: runSeeds)
        for (plain, safe) in zip(available, guarded) {
            for run in [plain, safe] {
                #expect(run.violations.isEmpty, "\(run.violations)\n    replay: \(run.replay)")
                #expect(Set(run.result.finalStates.values).count == 1, "replicas differ after the heal\n    replay: \(run.replay)")
            }
            let oldPrimary = try #require(plain.result.leaders.last { $0.start <= partitionStart }?.leader)
            let minorityAcks = acknowledgedWrites(plain.result).filter { $0.node == oldPrimary && $0.complete! > partitionStart + .seconds(1) && $0.complete! < partitionEnd }
            let lost = lostAppends(plain.result)
            // Lost: what the old primary acknowledged while cut off, plus the replication still in
            // flight when the cut came and what it acknowledged after the heal before hearing of its
            // successor (one heartbeat).
            let exposed = (partitionStart - .milliseconds(5))...(partitionEnd + PrimaryBackupOptions().heartbeat + .milliseconds(10))
            let lostInPartition = lost.filter { exposed.contains($0.complete!) }
            #expect(!minorityAcks.isEmpty, "the old primary keeps acknowledging writes while cut off\n    replay: \(plain.replay)")
            #expect(lostInPartition.count > 50 && lostInPartition.count == lost.count,
                    "acknowledged writes on the minority side are lost after the heal, and only those\n    replay: \(plain.replay)")

            let safeOldPrimary = try #require(safe.result.leaders.last { $0.start <= partitionStart }?.leader)
            let window = partitionStart + safeOptions.minReplicasMaxLag + safeOptions.heartbeat
            let safeLost = lostAppends(safe.result)
            let lateAcks = acknowledgedWrites(safe.result).filter { $0.node == safeOldPrimary && $0.invoke > window && $0.complete! < partitionEnd }
            #expect(lateAcks.isEmpty, "writes reaching the cut-off primary after the lag window are refused\n    replay: \(safe.replay)")
            #expect(refusedWrites(safe.result).count > 50, "…visibly: the minority side is unavailable for writes\n    replay: \(safe.replay)")
            #expect(safeLost.allSatisfy { $0.complete! <= window }, "only writes acknowledged within the lag window can be lost\n    replay: \(safe.replay)")
            #expect(safeLost.count * 5 < lost.count, "minReplicasToWrite shrinks the loss to the lag window\n    replay: \(safe.replay)")
            print("leader-isolated seed \(plain.seed): primary-backup lost \(lost.count) acknowledged appends (of \(acknowledgedAppends(plain.result)) acked), "
                  + "\(refusedWrites(plain.result).count) writes refused; minReplicasToWrite=2 lost \(safeLost.count) (of \(acknowledgedAppends(safe.result))), "
                  + "\(refusedWrites(safe.result).count) writes refused")
        }
    }

    var safeOptions: PrimaryBackupOptions {
        var options = PrimaryBackupOptions()
        options.minReplicasToWrite = 2
        return options
    }

    /// The primary alone is cut off: then `minReplicasToWrite: 1` is enough to refuse its writes,
    /// and the loss is confined to the lag window, while without it every write it takes is lost.
    @Test func isolatedPrimaryWithAndWithoutMinReplicas() throws {
        var file = try countable(scenario("leader-isolated"))
        file.faults = [FaultStep(at: partitionStart, .partitionShape(.isolate(.leader))), FaultStep(at: partitionEnd, .heal)]
        file.duration = .seconds(25)
        let plainSpec = try #require(file.backends.first { $0.label == "primary-backup" })
        var guarded = plainSpec
        guarded.options = [("minReplicasToWrite", .number(1))]
        guarded.variant = "minReplicasToWrite=1"
        file.backends = [plainSpec, guarded]
        let plain = try run(file, label: "primary-backup", seeds: [1])[0]
        let safe = try run(file, label: "primary-backup[minReplicasToWrite=1]", seeds: [1])[0]
        for run in [plain, safe] { #expect(run.violations.isEmpty && Set(run.result.finalStates.values).count == 1, "\(run.violations)") }
        let lost = lostAppends(plain.result).count, safeLost = lostAppends(safe.result)
        #expect(lost > 50)
        #expect(safeLost.allSatisfy { $0.complete! <= partitionStart + .milliseconds(250) } && safeLost.count * 5 < lost)
        #expect(refusedWrites(safe.result).count > 50 && refusedWrites(plain.result).isEmpty)
        print("isolate(leader): primary-backup lost \(lost) acknowledged appends; minReplicasToWrite=1 lost \(safeLost.count), refused \(refusedWrites(safe.result).count) writes")
    }

    /// `leader-crash-lag`: the primary crashes at 5 s. Writes it acknowledged but had not yet sent
    /// to its backups are lost when a backup is promoted (and again when the old primary rejoins and
    /// is resynchronised). The loss grows with the replication lag.
    @Test func lostWritesGrowWithReplicationLag() throws {
        let file = try scenario("leader-crash-lag")
        let lags: [(label: String, lag: TimeSpan)] = [
            ("primary-backup", .zero), ("primary-backup[replicationLag=50ms]", .milliseconds(50)),
            ("primary-backup[replicationLag=200ms]", .milliseconds(200)), ("primary-backup[replicationLag=800ms]", .milliseconds(800)),
        ]
        let crash = Instant.zero + .seconds(5)
        var totals: [Int] = []
        for (label, lag) in lags {
            var total = 0
            for run in try run(file, label: label, seeds: seeds(default: 2, full: 5)) {
                #expect(run.violations.isEmpty, "\(run.violations)\n    replay: \(run.replay)")
                #expect(Set(run.result.finalStates.values).count == 1, "replicas differ at the end\n    replay: \(run.replay)")
                let lost = lostAppends(run.result)
                #expect(lost.allSatisfy { $0.invoke < crash && $0.complete! >= crash - lag - .milliseconds(5) },
                        "only writes acknowledged within the lag before the crash are lost\n    replay: \(run.replay)")
                let exposed = acknowledgedWrites(run.result).filter { $0.complete! > crash - lag + .milliseconds(5) && $0.complete! < crash }
                #expect(exposed.allSatisfy { op in lost.contains { $0.id == op.id } },
                        "every write acknowledged less than the lag before the crash is lost\n    replay: \(run.replay)")
                total += lost.count
            }
            totals.append(total)
        }
        print("leader-crash-lag: acknowledged appends lost for replicationLag 0/50/200/800 ms: \(totals)")
        #expect(totals[0] == 0, "streaming each write at once: the REPLICATE leaves with the acknowledgement")
        #expect(zip(totals, totals.dropFirst()).allSatisfy { $0 < $1 }, "loss grows with lag: \(totals)")
        #expect(zip(totals.dropFirst(), totals.dropFirst(2)).allSatisfy { 2 * $0 <= $1 }, "roughly in proportion (lag ×4, loss at least ×2): \(totals)")
    }

    /// `leader-crash`: one failover (down-after plus the vote) without writes; reads stay available
    /// on every node throughout; nothing is lost when each write is streamed at once.
    @Test func leaderCrash() throws {
        let file = try countable(scenario("leader-crash"))
        let options = PrimaryBackupOptions()
        for run in try run(file, label: "primary-backup", seeds: seeds(default: 1, full: 5)) {
            #expect(run.violations.isEmpty, "\(run.violations)\n    replay: \(run.replay)")
            let crash = try #require(run.result.events.first { $0.event.kind == "crash" }).time
            let writes = acknowledgedWrites(run.result).compactMap(\.complete).filter { $0 > crash - .seconds(1) && $0 < crash + .seconds(3) }
            let gap = zip(writes, writes.dropFirst()).map { $1 - $0 }.max()!
            #expect(gap >= options.downAfter && gap <= options.downAfter + options.downAfter / 2 + .milliseconds(250),
                    "writes stop for one failover: \(gap)\n    replay: \(run.replay)")
            let crashed = try #require(run.result.events.first { $0.event.kind == "crash" }?.node)
            let readsWhileDown = run.result.history.filter {
                $0.command.isRead && $0.node != crashed && $0.invoke > crash && $0.invoke < crash + options.downAfter
            }
            #expect(!readsWhileDown.isEmpty && readsWhileDown.allSatisfy { if case .ok = $0.outcome { true } else { false } },
                    "reads stay available at the live nodes meanwhile\n    replay: \(run.replay)")
            #expect(lostAppends(run.result).isEmpty && Set(run.result.finalStates.values).count == 1, "replay: \(run.replay)")
            #expect(run.result.events.contains { $0.event == .role(.leader, term: 1, name: "primary") })
            print("leader-crash seed \(run.seed): writes unavailable for \(gap), \(readsWhileDown.count) reads served meanwhile")
        }
    }

    /// The scenario with appends and reads only, so that every lost write is countable.
    func countable(_ scenario: Scenario) -> Scenario {
        var result = scenario
        result.workload.mix = .init(get: 50, put: 0, append: 50, cas: 0, delete: 0)
        return result
    }

    func acknowledgedAppends(_ result: SimulationResult) -> Int {
        acknowledgedWrites(result).filter { if case .append = $0.command { true } else { false } }.count
    }
}
