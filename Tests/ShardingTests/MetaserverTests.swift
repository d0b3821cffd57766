import ConsensusCore
import Raft
import Simulator
import Testing
@testable import Sharding

/// The metaserver as a Raft group running the ordinary key-value store, with clerks (`MetaClerk`)
/// keeping the version chain in it: 6.824 lab 4A's concurrent tests, with the clerks' requests
/// really interleaved in a simulated three-node Raft cluster, through a leader crash.
@Suite struct MetaserverTests {
    static let buckets = 10

    /// Clerks with one request in flight each, on a simulated Raft cluster with no other load.
    final class Metaserver {
        let sim: Simulation<Raft>
        let timeout = TimeSpan.seconds(1)

        init(seed: UInt64) {
            var config = SimulationConfig(nodes: 3, seed: seed, duration: .seconds(100_000), quiescence: .zero, healAtEnd: false)
            config.workload.clientsPerNode = 0
            config.workload.timeout = timeout
            sim = Simulation<Raft>(config: config, options: RaftOptions())
            sim.run(for: .seconds(2))  // elect a leader
        }

        /// Runs every clerk to its result, sending each request again until it is answered;
        /// `during` is called once per simulated millisecond (to inject faults).
        func run(_ clerks: [MetaClerk], during: (Instant) -> Void = { _ in }) -> [MetaClerk.Result] {
            var clerks = clerks
            var results = [MetaClerk.Result?](repeating: nil, count: clerks.count)
            var inFlight = clerks.indices.map { sim.submit(clerks[$0].command, via: sim.cluster[$0 % sim.cluster.count]) }
            var rounds = 0
            while results.contains(where: { $0 == nil }), rounds < 600_000 {
                sim.run(for: .milliseconds(1))
                during(sim.now)
                rounds += 1
                for index in clerks.indices where results[index] == nil {
                    let operation = sim.history[inFlight[index]]
                    let answered = operation.outcome != .indeterminate || sim.now >= operation.invoke + timeout + .milliseconds(1)
                    guard answered else { continue }
                    if let result = clerks[index].receive(operation.outcome) {
                        results[index] = result
                    } else {
                        inFlight[index] = sim.submit(clerks[index].command, via: sim.cluster[(index + rounds) % sim.cluster.count])
                    }
                }
            }
            return results.map { $0! }
        }

        /// A get answered by whichever node can (a crashed one cannot).
        func read(_ key: String) -> Outcome {
            for node in sim.cluster {
                let read = sim.submit(.get(key: key), via: node)
                sim.run(for: timeout + .milliseconds(1))
                if case .ok = sim.history[read].outcome { return sim.history[read].outcome }
            }
            return .indeterminate
        }

        /// The chain as the store holds it, each version with the tag of the change that made it,
        /// read back through the clerk's own queries and the raw keys.
        func chain() -> [(version: ShardConfiguration, tag: String)] {
            var versions: [(ShardConfiguration, String)] = [(.initial(buckets: MetaserverTests.buckets), "")]
            while true {
                let number = versions.count
                guard case .version(let version) = run([MetaClerk(.query(number), tag: "reader", buckets: MetaserverTests.buckets)])[0],
                      version.number == number else { return versions }
                guard case .ok(.value(let text?)) = read(MetaClerk.key(number)), let stored = ConfigurationText.decode(text),
                      stored.version == version else { Issue.record("version \(number) reads back differently"); return versions }
                versions.append((version, stored.tag))
            }
        }
    }

    func group(_ id: Int) -> GroupID { GroupID(id) }

    /// Every version is the one before it with the change its tag names applied, every change
    /// made exactly one version, and the last is balanced over exactly the groups expected.
    func checkChain(_ versions: [(version: ShardConfiguration, tag: String)], changes: [String: ConfigurationChange], groups: [Int]) {
        for (before, after) in zip(versions, versions.dropFirst()) {
            guard let change = changes[after.tag] else { Issue.record("version \(after.version.number) by unknown \(after.tag)"); continue }
            #expect(before.version.applying(change) == .success(after.version), "version \(after.version.number) is not \(after.tag)'s change")
        }
        #expect(versions.dropFirst().map(\.tag).sorted() == changes.keys.sorted(), "each change made exactly one version")
        let last = versions.last!.version
        #expect(Set(last.groups.keys) == Set(groups.map(group)))
        let counts = last.bucketsByGroup.values.map(\.count)
        #expect(counts.isEmpty || counts.max()! <= counts.min()! + 1, "unbalanced: \(last.bucketsByGroup)")
    }

    /// TestBasic's "Concurrent leave/join": ten clerks each join gid+1000, join gid, leave
    /// gid+1000, all at once, and the leader crashes in the middle.
    @Test func concurrentLeaveJoinThroughALeaderCrash() {
        let metaserver = Metaserver(seed: 4)
        let gids = (0..<10).map { $0 * 10 + 100 }
        var changes: [String: ConfigurationChange] = [:]
        var crashed = false
        for step in 0..<3 {
            let clerks = gids.map { gid -> MetaClerk in
                let change: ConfigurationChange = switch step {
                case 0: .join([group(gid + 1_000): ["s\(gid)a"]])
                case 1: .join([group(gid): ["s\(gid)b"]])
                default: .leave([group(gid + 1_000)])
                }
                let tag = "c\(gid).\(step)"
                changes[tag] = change
                return MetaClerk(.change(change), tag: tag, buckets: Self.buckets)
            }
            var ticks = 0
            let results = metaserver.run(clerks) { _ in
                ticks += 1
                // A few milliseconds into the second round, with every clerk's join in flight.
                guard step == 1, !crashed, ticks == 3 else { return }
                crashed = true
                let leader = metaserver.sim.cluster.first { metaserver.sim.backend($0)?.role == .leader }!
                metaserver.sim.apply(.crash(.id(leader)))
            }
            for result in results {
                guard case .version = result else { Issue.record("a change ended \(result)"); continue }
            }
        }
        #expect(crashed)
        checkChain(metaserver.chain(), changes: changes, groups: gids)
    }

    /// TestMulti's "Concurrent multi leave/join" and a query of every version afterwards: each
    /// answers what the chain holds, and a number not reached yet answers the latest.
    @Test func concurrentMultiJoinsAndHistoricalQueries() {
        let metaserver = Metaserver(seed: 9)
        let clerks = (0..<5).map { index in
            MetaClerk(.change(.join([group(2 * index + 1): ["a\(index)"], group(2 * index + 2): ["b\(index)"]])), tag: "m\(index)",
                      buckets: Self.buckets)
        }
        let changes = Dictionary(uniqueKeysWithValues: clerks.map { ($0.tag, { if case .change(let c) = $0.request { c } else { fatalError() } }($0)) })
        _ = metaserver.run(clerks)
        let versions = metaserver.chain()
        checkChain(versions, changes: changes, groups: Array(1...10))
        let queried = metaserver.run([MetaClerk(.query(nil), tag: "q", buckets: Self.buckets), MetaClerk(.query(99), tag: "q", buckets: Self.buckets)])
        #expect(queried == [.version(versions.last!.version), .version(versions.last!.version)])
        let refused = metaserver.run([MetaClerk(.change(.move(Bucket(0), to: group(77))), tag: "bad", buckets: Self.buckets)])
        #expect(refused == [.refused(.noSuchGroup(group(77)))])
    }
}

@Suite struct ConfigurationTextTests {
    @Test func aVersionSurvivesItsTextWithAwkwardNames() throws {
        var version = ShardConfiguration.initial(buckets: 4)
        version = try version.applying(.join([GroupID(7): ["host:1", "a,b|c;d=e%f", "ünï"], GroupID(2): ["x"]])).get()
        let text = ConfigurationText.encode(version, tag: "c1.2;x")
        let decoded = try #require(ConfigurationText.decode(text))
        #expect(decoded.version == version)
        #expect(decoded.tag == "c1.2;x")
        #expect(ConfigurationText.encode(version, tag: "t") == ConfigurationText.encode(decoded.version, tag: "t"))
        for broken in ["", "n=1", "n=x;by=t;owners=-;groups=", "n=1;by=t;owners=q;groups=", "n=1;by=%G1;owners=-;groups="] {
            #expect(ConfigurationText.decode(broken) == nil, "\(broken)")
        }
    }

    @Test func aClerkReportsAKeyThatHoldsNoVersion() {
        var clerk = MetaClerk(.query(nil), tag: "t", buckets: 4)
        #expect(clerk.receive(.ok(.value("garbage"))) == .unreadable(key: "config/1", value: "garbage"))
    }
}
