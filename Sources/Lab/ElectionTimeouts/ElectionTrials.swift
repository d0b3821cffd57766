import ConsensusCore
import Raft
import Simulator

/// One crash of the leader and what followed.
public struct ElectionTrial: Sendable, Hashable {
    public var trial: Int
    public var crash: Instant
    /// From the crash until another server receives the new leader's first heartbeat (nil: no
    /// leader within the study's limit).
    public var electionTime: TimeSpan?
    /// Terms the election took: 1 when the first candidate won, more after failed elections.
    public var terms: UInt64
    /// Whether, in some term of the election, two or more servers campaigned at once (so the
    /// votes were split between them).
    public var splitVote: Bool
    /// How long the trial's write took to commit: the broadcast time (the paper's ~15 ms).
    public var broadcast: TimeSpan
    /// From the leader's last heartbeat round leaving until the first survivor campaigned: the
    /// earliest of the survivors' timeouts, plus the heartbeat's latency (thesis §9.3's 1/(s+1)).
    public var firstTimeout: TimeSpan? = nil
}

/// Runs the trials of one timeout range, reproducing the paper's setup (§9.3):
/// - 5 servers; a broadcast time (round trip plus disk write) of about 15 ms;
/// - before each crash, the leader replicates a new entry to all but two followers, so that two of
///   the four survivors cannot win (their logs are behind);
/// - the leader sends a synchronised heartbeat round (to provoke split votes) and is crashed at a
///   uniformly random point within its heartbeat interval, which is half the minimum timeout;
/// - the time measured runs from the crash until another server receives the new leader's first
///   heartbeat (its first AppendEntries or heartbeat);
/// - then the old leader restarts and the cluster settles before the next trial.
/// PreVote and CheckQuorum are off, as in the LogCabin of the paper.
struct ElectionTrials {
    let study: ElectionTimeoutStudy
    let range: ClosedRange<TimeSpan>

    var heartbeat: TimeSpan { max(range.lowerBound / 2, .microseconds(100)) }

    func run() -> [ElectionTrial] {
        var options = RaftOptions()
        options.electionTimeout = range
        options.heartbeat = heartbeat
        options.preVote = false
        options.checkQuorum = false
        var config = SimulationConfig(nodes: study.nodes, seed: study.seed, duration: .seconds(100_000_000), quiescence: .zero,
                                      healAtEnd: false, network: LinkProfile(latency: study.latency),
                                      storage: StorageModel(fsync: true, syncLatency: study.fsyncLatency), processingTime: study.processing, timerSlack: study.timerSlack)
        config.workload.clientsPerNode = 0
        config.workload.timeout = .seconds(5)
        let sim = Simulation<Raft>(config: config, options: options)
        let probe = Probe()
        sim.afterSend = { from, _, message, departure in
            if message.kind == .heartbeat { probe.lastHeartbeat = (from, departure) }
        }
        sim.afterStep = { sim, node in
            guard let measuring = probe.measuring, probe.heard == nil, node != measuring.crashed,
                  let backend = sim.backend(node), backend.role == .follower, backend.leader != nil,
                  backend.currentTerm > measuring.term else { return }
            probe.heard = (sim.now, backend.currentTerm)
        }
        var random = DeterministicRandom(seed: study.seed, label: "election trials \(range.lowerBound.microseconds)-\(range.upperBound.microseconds)")
        var trials: [ElectionTrial] = []
        for trial in 0..<study.trials {
            guard let leader = settle(sim) else { break }
            let term = sim.backend(leader)!.currentTerm
            // Two followers miss the newest entry: they will not be able to win.
            var followers = sim.cluster.filter { $0 != leader }
            random.shuffle(&followers)
            let lagging = followers.prefix(study.laggingFollowers).map { NodeRef.id($0) }
            if !lagging.isEmpty { sim.apply(.drop(kinds: [RaftMessage.Kind.appendEntries.rawValue], from: [.id(leader)], to: Array(lagging))) }
            let target = sim.backend(leader)!.log.lastIndex + 1
            let submitted = sim.now
            sim.submit(.put(key: "trial", value: "\(trial)"), via: leader)
            guard wait(sim, limit: .seconds(2), until: { (sim.backend(leader)?.commitIndex ?? 0) >= target }) else { break }
            let broadcast = sim.now - submitted
            // The next heartbeat round, then a crash somewhere within the heartbeat interval.
            let committed = sim.now
            guard wait(sim, limit: heartbeat * 3, until: { probe.lastHeartbeat.map { $0.0 == leader && $0.1 >= committed } ?? false }) else { break }
            let lastRound = probe.lastHeartbeat!.1
            let crash = lastRound + random.duration(in: .zero...heartbeat)
            sim.run(until: crash)
            probe.measuring = (leader, term)
            probe.heard = nil
            let eventsBefore = sim.events.count
            sim.apply(.crash(.id(leader)))
            _ = wait(sim, limit: study.giveUpAfter) { probe.heard != nil }
            let candidacies = sim.events[eventsBefore...].compactMap { record -> (time: Instant, term: UInt64)? in
                guard case .role(.candidate, let term, RaftRole.candidate.rawValue) = record.event else { return nil }
                return (record.time, term)
            }
            let candidacyTerms = candidacies.map(\.term)
            trials.append(ElectionTrial(trial: trial, crash: crash, electionTime: probe.heard.map { $0.time - crash },
                                        terms: probe.heard.map { $0.term - term } ?? 0, splitVote: Set(candidacyTerms).count < candidacyTerms.count,
                                        broadcast: broadcast, firstTimeout: candidacies.first.map { $0.time - lastRound }))
            probe.measuring = nil
            sim.apply(.heal)
            sim.apply(.restart(.id(leader)))
        }
        return trials
    }

    /// Waits until one node leads and every node is up and holds everything the leader committed.
    private func settle(_ sim: Simulation<Raft>) -> NodeID? {
        var settled: NodeID?
        _ = wait(sim, limit: study.giveUpAfter * 4) {
            guard let leader = sim.currentLeader, let state = sim.backend(leader), state.commitIndex == state.log.lastIndex else { return false }
            let caughtUp = sim.cluster.allSatisfy { node in
                node == leader || (sim.backend(node).map { $0.leader == leader && $0.log.lastIndex == state.log.lastIndex } ?? false)
            }
            settled = caughtUp ? leader : nil
            return caughtUp
        }
        return settled
    }

    /// Advances virtual time in 100 µs steps until `condition` holds (true) or `limit` passes (false).
    private func wait(_ sim: Simulation<Raft>, limit: TimeSpan, until condition: () -> Bool) -> Bool {
        let deadline = sim.now + limit
        while !condition() {
            guard sim.now < deadline else { return false }
            sim.run(for: .microseconds(100))
        }
        return true
    }

    /// State shared with the simulator's hooks.
    final class Probe {
        var lastHeartbeat: (NodeID, Instant)?
        var measuring: (crashed: NodeID, term: UInt64)?
        var heard: (time: Instant, term: UInt64)?
    }
}
