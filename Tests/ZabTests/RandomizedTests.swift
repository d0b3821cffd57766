import ConsensusCore
import Foundation
import Simulator
import Testing
import Zab

/// Random partitions, crashes (losing unsynced data), pauses and lossy, duplicating, reordering
/// bursts, with ZAB's invariants checked after every step and acknowledged writes checked at the
/// end. 200 seeds with `CONLAB_FULL=1`, a few by default, one with `CONLAB_SEED=n`.
@Suite struct RandomizedTests {
    static var seeds: [UInt64] {
        if let seed = ProcessInfo.processInfo.environment["CONLAB_SEED"].flatMap(UInt64.init) { return [seed] }
        return Array(1...(fullRun ? 200 : 8))
    }

    static func config(seed: UInt64) -> SimulationConfig {
        var config = SimulationConfig(nodes: 5, seed: seed, duration: .seconds(10), quiescence: .seconds(3))
        config.network = LinkProfile(latency: .uniform(.microseconds(500)...(.milliseconds(3))), loss: 0.01, duplicate: 0.01, reorder: 0.02)
        config.workload.keys = 4
        config.workload.mode = .closed(think: .uniform(.milliseconds(1)...(.milliseconds(20))))
        let nemesis = Nemesis(faults: [.partition, .oneWay, .crash, .crashMajority, .pause, .flaky],
                              interval: .milliseconds(200)...(.milliseconds(1_500)), length: .milliseconds(300)...(.milliseconds(2_500)))
        config.faults = nemesis.schedule(seed: seed, nodes: 5, duration: config.duration)
        return config
    }

    static func check(seed: UInt64, options: ZabOptions) -> [String] {
        let (simulation, checker) = checkedSimulation(config(seed: seed), options)
        let result = simulation.run()
        checker.checkAcknowledged(result.history)
        var failures = checker.failures
        let states = result.finalStates.sorted { $0.key < $1.key }
        if let first = states.first, let other = states.first(where: { $0.value != first.value }) {
            failures.append("replicas diverge after quiescence: \(first.key) and \(other.key)")
        }
        if states.count < 5 { failures.append("only \(states.count) replicas alive at the end") }
        let backwards = StaleReads.goingBack(in: result.history)
        if let example = backwards.first { failures.append("\(backwards.count) reads go back in a client's own order, e.g. \(example.jsonLine)") }
        if options.read == .sync {
            let stale = StaleReads.find(in: result.history)
            if let example = stale.first { failures.append("\(stale.count) stale reads under read=sync, e.g. \(example)") }
        }
        return failures
    }

    /// The defaults; sync reads with frequent snapshots and a short DIFF window (many SNAPs); and
    /// the same with SNAPs in chunks of 64 bytes.
    static let variants: [ZabOptions] = [ZabOptions(), snapshotting(chunk: ZabOptions().snapshotChunk), snapshotting(chunk: 64)]

    static func snapshotting(chunk: Int) -> ZabOptions {
        var options = ZabOptions()
        options.read = .sync
        options.snapCount = 40
        options.commitLogCount = 10
        options.snapshotChunk = chunk
        return options
    }

    @Test func invariantsHoldUnderRandomFaults() {
        var failed: [String] = []
        for seed in Self.seeds {
            for options in Self.variants {
                let failures = Self.check(seed: seed, options: options)
                if !failures.isEmpty {
                    failed.append("seed \(seed) read=\(options.read.rawValue) snapCount=\(options.snapCount) snapshotChunk=\(options.snapshotChunk):\n  "
                                  + failures.joined(separator: "\n  ")
                                  + "\n  " + replay("RandomizedTests", seed: seed))
                }
            }
        }
        #expect(failed.isEmpty, "\(failed.joined(separator: "\n"))")
    }
}
