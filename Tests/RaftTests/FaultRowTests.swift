import ConsensusCore
import Raft
import Simulator
import Testing

/// The Raft column of FAULTS.md, one test per row (and variant), each on its scenario file in
/// `Experiments/` with the outcome asserted in numbers. Seed 1 by default, all of the file's
/// seeds with `CONLAB_FULL=1`; every failure prints the `conlab run` line that replays it.
@Suite struct FaultRowTests {
    static let seeds: [UInt64] = Scale.full ? [1, 2, 3, 4, 5] : [1]
    static func at(_ seconds: Double) -> Instant { RowRun.at(seconds) }

    /// The baseline run of seed 1, shared by the tests that compare against it (computed once;
    /// read-only afterwards).
    nonisolated(unsafe) static let baselineRun = Result { try RowRun("baseline") }

    /// Safety, checked for every run of a safe configuration.
    func expectSafe(_ run: RowRun, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.safetyProblems.isEmpty, "\(run.safetyProblems.joined(separator: "\n"))\n\(run.replay)", sourceLocation: sourceLocation)
    }

    /// Linearizable read modes never return a certainly-stale value.
    func expectNoStaleReads(_ run: RowRun, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.staleReads.isEmpty, "\(run.staleReads.count) stale reads, e.g. op \(run.staleReads.first?.id ?? 0)\n\(run.replay)", sourceLocation: sourceLocation)
    }

    /// baseline: available throughout once the first leader is elected, linearizable; with
    /// `unsafeLocal`, followers answer from state that lags the leader: stale reads.
    @Test func baseline() throws {
        for seed in Self.seeds {
            let run = try seed == 1 ? Self.baselineRun.get() : RowRun("baseline", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            let gap = run.longestGap(in: Self.at(1)..<Self.at(20))
            #expect(gap < .milliseconds(100), "no fault, yet nothing was served for \(gap)\n\(run.replay)")
            #expect(run.result.history.allSatisfy { $0.outcome != .indeterminate }, "\(run.replay)")
        }
        // Reads at a follower every millisecond for two seconds: the follower applies a write
        // only after the leader's next message, and a client that saw the write complete can
        // still read the older value there.
        let probe = RowRun.Probe(window: Self.at(5)..<Self.at(6), every: .milliseconds(1), readViaLeader: false)
        let unsafe = try RowRun("baseline", "raft[read=unsafeLocal]", probe: probe)
        expectSafe(unsafe)
        #expect(!unsafe.staleReads.isEmpty, "unsafeLocal reads at followers should show stale values\n\(unsafe.replay)")
    }

    /// leader-crash: unavailable for about one election (the timeout range plus a round trip),
    /// then available; no acknowledged write lost.
    @Test func leaderCrash() throws {
        for seed in Self.seeds {
            let run = try RowRun("leader-crash", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            let gap = run.longestGap(in: Self.at(9.9)..<Self.at(20))
            let timeout = run.options.electionTimeout
            #expect(gap >= timeout.lowerBound - run.options.heartbeat && gap <= timeout.upperBound * 2,
                    "unavailable for \(gap) after the leader crashed; expected about one election\n\(run.replay)")
            #expect(run.leaderChanges(in: Self.at(10)..<Self.at(11)) == 1, "\(run.replay)")
            for second in 11..<20 {
                #expect(!run.served(in: Self.at(Double(second))..<Self.at(Double(second + 1))).isEmpty, "nothing served in second \(second)\n\(run.replay)")
            }
        }
    }

    /// minority-partition: clients of the majority carry on, clients of the cut-off followers
    /// get nothing (CP); with `unsafeLocal` the minority serves reads, stale ones.
    @Test func minorityPartition() throws {
        for seed in Self.seeds {
            let run = try RowRun("minority-partition", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            let minority = try #require(run.partitionGroups.min { $0.count < $1.count })
            let majority = Set(NodeID.cluster(5)).subtracting(minority)
            let window = Self.at(10.5)..<Self.at(20)
            #expect(run.served(in: window, homes: minority).isEmpty, "the minority served operations\n\(run.replay)")
            #expect(run.served(in: window, homes: majority).count > 1_000, "\(run.replay)")
            #expect(!run.served(in: Self.at(21)..<Self.at(30), homes: minority).isEmpty, "the minority did not recover after the heal\n\(run.replay)")
        }
        let unsafe = try RowRun("minority-partition", "raft[read=unsafeLocal]")
        expectSafe(unsafe)
        let minority = try #require(unsafe.partitionGroups.min { $0.count < $1.count })
        let window = Self.at(10.5)..<Self.at(20)
        #expect(!unsafe.served(in: window, homes: minority, reads: true).isEmpty, "unsafeLocal: the minority should answer reads\n\(unsafe.replay)")
        #expect(unsafe.served(in: window, homes: minority, reads: false).isEmpty, "the minority committed writes\n\(unsafe.replay)")
        #expect(unsafe.staleReads.contains { minority.contains($0.node) }, "unsafeLocal: expected stale reads on the minority\n\(unsafe.replay)")
    }

    /// leader-isolated: a new leader in the majority, the old leader's uncommitted entries
    /// discarded on heal (the invariants check every log), linearizable.
    @Test func leaderIsolated() throws {
        for seed in Self.seeds {
            let run = try RowRun("leader-isolated", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            let old = try #require(run.leader(at: Self.at(9.99)))
            let new = try #require(run.leader(at: Self.at(11)))
            let minority = try #require(run.partitionGroups.first { $0.contains(old) })
            #expect(new != old && !minority.contains(new), "expected a new leader in the majority, found \(new)\n\(run.replay)")
            #expect(run.served(in: Self.at(10.5)..<Self.at(20), homes: minority).isEmpty, "\(run.replay)")
        }
    }

    /// leader-isolated with leases: the old leader answers reads only until its lease runs out,
    /// which is before the majority can elect a new leader; no stale read.
    @Test func leaderIsolatedLease() throws {
        let probe = RowRun.Probe(window: Self.at(9.9)..<Self.at(10.5), every: .milliseconds(2), quiet: Self.at(9.98)..<Self.at(10))
        let run = try RowRun("leader-isolated", "raft[read=lease]", probe: probe)
        expectSafe(run)
        expectNoStaleReads(run)
        let old = try #require(run.leader(at: Self.at(9.99)))
        let reads = run.served(in: Self.at(10)..<Self.at(20), homes: [old], reads: true)
        let lastRead = try #require(reads.compactMap(\.complete).max(), "the old leader served no read under its lease")
        let newLeader = try #require(run.result.leaders.first { $0.start > Self.at(10) && $0.leader != nil && $0.leader != old })
        #expect(lastRead < Self.at(10) + run.options.leaseDuration + .milliseconds(5), "the old leader served a read at \(lastRead), after its lease\n\(run.replay)")
        #expect(lastRead < newLeader.start, "the old leader read at \(lastRead) after \(newLeader.leader!) took over at \(newLeader.start)\n\(run.replay)")
    }

    /// leader-isolated with `unsafeLocal`: the old leader keeps answering reads after the new
    /// leader committed writes — stale reads.
    @Test func leaderIsolatedUnsafeLocal() throws {
        let run = try RowRun("leader-isolated", "raft[read=unsafeLocal]")
        expectSafe(run)
        let old = try #require(run.leader(at: Self.at(9.99)))
        let minority = try #require(run.partitionGroups.first { $0.contains(old) })
        let majorityWrite = try #require(run.served(in: Self.at(10)..<Self.at(20), reads: false).first { !minority.contains($0.node) })
        let oldLeaderReads = run.served(in: majorityWrite.complete!..<Self.at(20), homes: [old], reads: true)
            .filter { $0.invoke > majorityWrite.complete! }
        #expect(!oldLeaderReads.isEmpty, "the old leader served no read after the new leader committed\n\(run.replay)")
        #expect(run.checkedStaleReads.contains { minority.contains($0.node) }, "expected stale reads from the old leader's side\n\(run.replay)")
    }

    /// two-dc: the side with three nodes stays available, the side with two does not (CP).
    @Test func twoDataCentres() throws {
        for seed in Self.seeds {
            let run = try RowRun("two-dc", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            let window = Self.at(10.5)..<Self.at(20)
            #expect(run.served(in: window, homes: [NodeID(1), NodeID(2), NodeID(3)]).count > 1_000, "\(run.replay)")
            #expect(run.served(in: window, homes: [NodeID(4), NodeID(5)]).isEmpty, "DC B served operations while cut off\n\(run.replay)")
        }
    }

    /// bridge and majorities-ring: with PreVote and CheckQuorum the leader stays put; without
    /// them, nodes that cannot hear it depose it (leader churn; on a bridge until the bridge node
    /// leads). Available both ways.
    @Test(arguments: ["bridge", "majorities-ring"])
    func partialPartitions(row: String) throws {
        let window = Self.at(5)..<Self.at(25)
        let stable = try RowRun(row)
        let churning = try RowRun(row, "raft[prevote=false;checkQuorum=false]")
        for run in [stable, churning] {
            expectSafe(run)
            expectNoStaleReads(run)
            #expect(run.served(in: window).count > 1_000, "\(run.replay)")
        }
        let calm = stable.leaderChanges(in: window), churn = churning.leaderChanges(in: window)
        #expect(calm == 0, "\(calm) leader changes with PreVote and CheckQuorum\n\(stable.replay)")
        // On a ring no node sees everyone, so elections never settle. A bridge settles as soon as
        // the bridge node itself wins (it sees both halves), so it churns at least once.
        let expected = row == "bridge" ? 1 : 3
        #expect(churn >= expected, "only \(churn) leader changes without PreVote and CheckQuorum\n\(churning.replay)")
    }

    /// one-way (the leader cannot hear its followers): with CheckQuorum it steps down and a new
    /// leader is elected within about a second; without, nothing is served until the heal.
    @Test func oneWay() throws {
        let checked = try RowRun("one-way")
        expectSafe(checked)
        expectNoStaleReads(checked)
        #expect(checked.leaderChanges(in: Self.at(10)..<Self.at(11)) == 1, "\(checked.replay)")
        let gap = checked.longestGap(in: Self.at(10)..<Self.at(20))
        #expect(gap < .seconds(1), "unavailable for \(gap) despite CheckQuorum\n\(checked.replay)")
        let unchecked = try RowRun("one-way", "raft[checkQuorum=false]")
        expectSafe(unchecked)
        expectNoStaleReads(unchecked)
        #expect(unchecked.served(in: Self.at(10.2)..<Self.at(20)).isEmpty, "served operations although the leader hears no one\n\(unchecked.replay)")
        #expect(unchecked.leaderChanges(in: Self.at(10)..<Self.at(20)) == 0, "\(unchecked.replay)")
        #expect(!unchecked.served(in: Self.at(20.5)..<Self.at(30)).isEmpty, "no recovery after the heal\n\(unchecked.replay)")
    }

    /// flaky (20% loss, 5% duplicates, reordering): slower than baseline, still safe and linearizable.
    @Test func flaky() throws {
        let run = try RowRun("flaky")
        expectSafe(run)
        expectNoStaleReads(run)
        let served = run.served(in: Self.at(0)..<Self.at(20)).count
        let healthy = try Self.baselineRun.get().served(in: Self.at(0)..<Self.at(20)).count
        #expect(served > 500 && served < healthy, "flaky served \(served), baseline \(healthy)\n\(run.replay)")
    }

    /// crash-recover (a majority crashes together, unsynced data lost): nothing acknowledged is
    /// lost — acknowledged means synced on a majority. With `fsync: false` the same crash loses
    /// acknowledged writes (or lets replicas diverge) on some seed.
    @Test func crashRecover() throws {
        for seed in Self.seeds {
            let run = try RowRun("crash-recover", seed: seed)
            expectSafe(run)
            expectNoStaleReads(run)
            #expect(!run.served(in: Self.at(13)..<Self.at(25)).isEmpty, "no recovery after the restart\n\(run.replay)")
        }
        // With `fsync: false` a crash loses the last second of writes. To make the crashed
        // majority the only holders of the newest entries, n4 and n5 are cut off from 9 s until
        // after the restart; the same schedule with fsync loses nothing.
        let cutOff: (inout SimulationConfig) -> Void = { config in
            config.faults += [FaultStep(at: Self.at(9), .partition([[.id(NodeID(1)), .id(NodeID(2)), .id(NodeID(3))], [.id(NodeID(4)), .id(NodeID(5))]])),
                              FaultStep(at: Self.at(12.5), .heal)]
        }
        let synced = try RowRun("crash-recover", configure: cutOff)
        expectSafe(synced)
        let unsynced = try RowRun("crash-recover") { config in
            cutOff(&config)
            config.storage.fsync = false
        }
        #expect(unsynced.result.events.contains { $0.kind == "crash" && !$0.detail.hasPrefix("lost 0 ") }, "the crash lost no unsynced data")
        let lost = unsynced.invariants.acknowledgedButLost(unsynced.result.history).overwritten
        #expect(!lost.isEmpty, "fsync: false lost no acknowledged write\n\(unsynced.replay)")
    }

    /// disruptive-rejoin: without PreVote the rejoining follower's inflated term deposes the
    /// leader; with PreVote its term never grew and nothing changes.
    @Test func disruptiveRejoin() throws {
        let heal = Self.at(35)
        let calm = try RowRun("disruptive-rejoin")
        expectSafe(calm)
        #expect(calm.leaderChanges(in: heal..<Self.at(45)) == 0, "PreVote: the rejoin changed the leader\n\(calm.replay)")
        #expect(calm.result.leaders.last!.term == calm.result.leaders.first { $0.leader != nil }!.term, "PreVote: terms grew\n\(calm.replay)")
        let disrupted = try RowRun("disruptive-rejoin", "raft[prevote=false]")
        expectSafe(disrupted)
        #expect(disrupted.leaderChanges(in: heal..<Self.at(36)) >= 1, "without PreVote the rejoin should depose the leader\n\(disrupted.replay)")
        let before = disrupted.result.leaders.last { $0.start < heal && $0.leader != nil }!.term
        #expect(disrupted.result.leaders.last!.term > before + 10, "the term should have been inflated by the isolated follower\n\(disrupted.replay)")
    }

    /// clock-skew-lease (the leader's clock runs at half speed, then it is cut off): ReadIndex
    /// stays linearizable; a lease outlives its true length and serves stale reads.
    @Test func clockSkewLease() throws {
        // Reads through the leader every 2 ms around the partition: with its clock at half speed
        // its lease lasts twice as long in true time, past the election of the new leader.
        let probe = RowRun.Probe(window: Self.at(9.9)..<Self.at(10.6), every: .milliseconds(2), quiet: Self.at(9.98)..<Self.at(10))
        let lease = try RowRun("clock-skew-lease", "raft[read=lease]", probe: probe)
        expectSafe(lease)
        #expect(!lease.staleReads.isEmpty, "a slow leader clock produced no stale lease read\n\(lease.replay)")
        let readIndex = try RowRun("clock-skew-lease", probe: probe)
        expectSafe(readIndex)
        expectNoStaleReads(readIndex)
    }

    /// staggered-start: a leader as soon as a majority (the third node, at 2 s) is up.
    @Test func staggeredStart() throws {
        let run = try RowRun("staggered-start")
        expectSafe(run)
        let first = try #require(run.result.leaders.first { $0.leader != nil })
        #expect(first.start >= Self.at(2) && first.start < Self.at(3), "first leader at \(first.start)\n\(run.replay)")
    }
}
