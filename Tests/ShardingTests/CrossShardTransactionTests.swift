import ConsensusCore
import Lab
import Simulator
import Testing
@testable import Sharding

/// Cross-shard transactions: two-phase commit whose participants are Raft groups and whose
/// decision is written into the metaserver (a Raft group) before anyone hears it. All or nothing
/// across groups, and no blocking when a leader — of a participant or of the decision store — crashes
/// in the middle: the group elects another and the transaction goes on.
@Suite struct CrossShardTransactionTests {
    /// Coordinators running one transaction at a time each: every transaction appends its own
    /// fragment to one key of each group; contention on the keys makes some vote no.
    struct Coordinators {
        var running: [(clerk: TransactionClerk, request: ShardedDeployment.InFlight?)?]
        var outcomes: [String: TransactionClerk.Result] = [:]
        var fragments: [String: [String]] = [:]
        var next = 0
        /// Whether a coordinator that finished starts another transaction.
        var starting = true
        var random: DeterministicRandom
        let keys: [[String]]

        init(count: Int, keys: [[String]], seed: UInt64) {
            running = Array(repeating: nil, count: count)
            self.keys = keys
            random = DeterministicRandom(seed: seed, label: "transactions")
        }

        mutating func step(_ deployment: ShardedDeployment) {
            for index in running.indices {
                guard var (clerk, request) = running[index] else {
                    guard starting else { continue }
                    next += 1
                    let id = "t\(next)"
                    let chosen = keys.map { $0[random.index(below: $0.count)] }
                    fragments[id] = chosen
                    running[index] = (TransactionClerk(id: id, writes: chosen.map { .append(key: $0, value: id + ";") }, configuration: deployment.latest)!, nil)
                    continue
                }
                if let inFlight = request {
                    guard let outcome = deployment.answered(inFlight) else { continue }
                    if let result = clerk.receive(outcome) {
                        outcomes[clerk.id] = result
                        running[index] = nil
                        continue
                    }
                }
                let (target, command) = clerk.request
                let sim = switch target {
                case .group(let group): deployment.groups[group]!
                case .decisions: deployment.metaserver
                }
                request = deployment.submit(command, to: sim, turn: next + index)
                running[index] = (clerk, request)
            }
        }
    }

    /// A clerk hears a group's NO as a value (`no REASON`: a RESP client sees a compare-and-set
    /// mismatch as a bare null), and a decision already in the store as a mismatch however it comes
    /// (a RESP reply is `ok(casMismatch)`, the simulator's `fail(casMismatch)`): then it reads what stands.
    @Test func theClerkReadsANoAndADecisionMadeBeforeAsTheyArriveOverRESP() throws {
        let one = try ShardConfiguration.initial(buckets: 2).applying(.join([GroupID(1): ["g1.n1"]])).get()
        var clerk = TransactionClerk(id: "t1", writes: [.put(key: "a", value: "t1")], configuration: one)!
        #expect(clerk.receive(.ok(ShardControl.no("locked"))) == nil)
        #expect(clerk.request.command == .cas(key: "txn/t1", expected: nil, value: "abort"), "a NO decides abort")
        for mismatch in [Outcome.ok(.casMismatch(current: nil)), .fail(.casMismatch)] {
            var deciding = clerk
            #expect(deciding.receive(mismatch) == nil)
            #expect(deciding.request.command == .get(key: "txn/t1"), "decided before: read what stands, after \(mismatch)")
            #expect(deciding.receive(.ok(.value("abort"))) == nil)
            #expect(deciding.receive(.ok(.done)) == .aborted(reason: "g1 voted no (locked)"))
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64]) func transactionsAreAllOrNothingThroughLeaderCrashes(seed: UInt64) throws {
        let deployment = ShardedDeployment(groups: [1, 2], buckets: 8, seed: seed)
        try deployment.change(.join([GroupID(1): ["a"], GroupID(2): ["b"]]))
        deployment.settle()
        let all = (0..<40).map { "k\($0)" }
        let keys = [1, 2].map { id in all.filter { deployment.latest.owner(of: Bucket.of(key: $0, count: 8)) == GroupID(id) }.prefix(3).map { $0 } }
        var coordinators = Coordinators(count: 4, keys: keys, seed: seed)
        deployment.run(for: .milliseconds(500)) { coordinators.step(deployment) }
        // The decision store's leader, then a participant's, crash with transactions under way.
        for sim in [deployment.metaserver, deployment.groups[GroupID(2)]!] {
            let leader = try #require(sim.currentLeader)
            sim.apply(.crash(.id(leader)))
            deployment.run(for: .milliseconds(700)) { coordinators.step(deployment) }
            sim.apply(.restart(.id(leader)))
            deployment.run(for: .milliseconds(300)) { coordinators.step(deployment) }
        }
        // Let the transactions under way finish; start no new ones.
        coordinators.starting = false
        var left = 10_000
        while left > 0, coordinators.running.contains(where: { $0 != nil }) {
            deployment.run(for: .milliseconds(1)) { coordinators.step(deployment) }
            left -= 1
        }
        #expect(!coordinators.running.contains { $0 != nil }, "every transaction finished")
        let state = deployment.servedState().state
        var committed = 0, aborted = 0
        for (id, outcome) in coordinators.outcomes {
            let present = coordinators.fragments[id]!.map { (state[$0] ?? "").split(separator: ";").contains(Substring(id)) }
            switch outcome {
            case .committed:
                committed += 1
                #expect(present.allSatisfy { $0 }, "\(id) committed but missing from \(coordinators.fragments[id]!)")
            case .aborted:
                aborted += 1
                #expect(!present.contains(true), "\(id) aborted but applied at \(coordinators.fragments[id]!)")
            }
        }
        #expect(committed > 20, "seed \(seed): \(committed) committed")
        #expect(aborted > 0, "seed \(seed): contention makes some vote no")
        for id in [GroupID(1), GroupID(2)] { #expect(deployment.store(id).prepared.isEmpty, "no transaction left holding locks at \(id)") }
    }
}
