import ConsensusCore
import Foundation
import Lab
import Simulator

/// The checks every backend's tests run, each over a scenario file in `Experiments/conformance/`
/// so that a failing seed is replayed with `conlab run`. A backend joins by adding itself to the
/// `backends` list of those files and calling `Conformance.run(backend:promises:)` from a test.
///
/// What a backend promises decides what is asserted: the AP backend and 3PC promise less than
/// Raft, and say so. 3PC does not promise `invariantsHold`: under partitions its participants
/// decide differently, and it reports that as a conflicting decision.
public enum Conformance {
    /// What a protocol guarantees (`Lab.Promises`: the hunt judges its runs by the same definition).
    public typealias Promises = Lab.Promises
    /// What a node's disk did to it during a run (`Lab.DiskDamage`).
    public typealias DiskDamage = Lab.DiskDamage

    public struct Failure: CustomStringConvertible, Sendable {
        public var check: String
        public var run: String
        public var message: String
        public var replay: String

        public var description: String { "[\(check)] \(run): \(message)\n    replay: \(replay)" }
    }

    /// Seeds for the randomized checks: `defaultCount` normally, all of the file's with
    /// `CONLAB_FULL=1` (random-faults: 200; heavy-faults: 1,000 at each of 3, 5 and 7 nodes),
    /// exactly one with `CONLAB_SEED=N`; `CONLAB_SEEDS=N` scales the defaults by N (a longer sweep
    /// than the default without the full count).
    public static func seedCount(default defaultCount: Int) -> Int? {
        let environment = ProcessInfo.processInfo.environment
        if environment["CONLAB_FULL"] == "1" { return nil }
        return defaultCount * max(environment["CONLAB_SEEDS"].flatMap(Int.init) ?? 1, 1)
    }

    /// Runs every conformance check for `backend` (its name or a variant label as in the files).
    /// `underClockDrift` is what the backend still promises when timers drift (the heavy-faults
    /// nemesis skews clocks; lease reads then lose linearizability by design); by default the same.
    public static func run(backend: String, promises: Promises, underClockDrift: Promises? = nil, randomSeeds: Int = 12) -> [Failure] {
        determinism(backend: backend)
            + exactlyOnce(backend: backend, promises: promises)
            + crashRestart(backend: backend, promises: promises)
            + randomFaults(backend: backend, promises: promises, seeds: randomSeeds)
            + heavyFaults(backend: backend, promises: underClockDrift ?? promises, seeds: max(randomSeeds / 2, 1))
            + diskFaults(backend: backend, promises: promises, seeds: max(randomSeeds / 2, 3))
    }

    // MARK: Checks

    /// Same scenario and seed twice: byte-identical summary, events and history; another seed: a
    /// different history.
    public static func determinism(backend: String) -> [Failure] {
        let file = scenarioPath("determinism")
        guard let plan = plan(file, backend: backend, seeds: [1, 2]) else { return [missing(file, backend)] }
        let outputs = Runner.run([plan.specs[0], plan.specs[0], plan.specs[1]])
        let texts = outputs.map { ReportWriter.renderedRun($0) }
        var failures: [Failure] = []
        if texts[0] != texts[1] {
            failures.append(failure("determinism", file, plan.specs[0], "the same seed gave different outputs:\n" + firstDifference(texts[0], texts[1])))
        }
        if outputs[0].result.history == outputs[2].result.history {
            failures.append(failure("determinism", file, plan.specs[2], "seeds 1 and 2 gave the same history: the seed does not reach the run"))
        }
        return failures
    }

    /// Appends only, under duplication, loss and fast retries: each append at most once in every
    /// replica; every acknowledged append present at the end (when durable).
    public static func exactlyOnce(backend: String, promises: Promises) -> [Failure] {
        let file = scenarioPath("exactly-once")
        guard let plan = plan(file, backend: backend, seeds: nil) else { return [missing(file, backend)] }
        return appendChecks("exactly-once", file, Runner.run(plan.specs), promises: promises)
    }

    /// Crash of every node, restart from storage, then a minority crash: restarted nodes recover
    /// what they synced; appends stay exactly-once; acknowledged ones survive (when durable).
    public static func crashRestart(backend: String, promises: Promises) -> [Failure] {
        let file = scenarioPath("crash-restart")
        guard let plan = plan(file, backend: backend, seeds: nil) else { return [missing(file, backend)] }
        let outputs = Runner.run(plan.specs)
        var failures = appendChecks("crash-restart", file, outputs, promises: promises)
        for output in outputs {
            let restarts = output.result.events.compactMap { record -> (time: Instant, recoveredNothing: Bool)? in
                guard case .restart(let entries, let snapshot) = record.event else { return nil }
                return (record.time, entries == 0 && snapshot == nil)
            }
            if restarts.isEmpty { failures.append(failure("crash-restart", file, output.spec, "no node restarted")) }
            let acknowledged = output.result.history.contains { $0.outcome != .indeterminate && $0.invoke < Instant.zero + .seconds(3) }
            let early = restarts.filter { $0.time < Instant.zero + .seconds(5) }
            if acknowledged, !early.isEmpty, early.allSatisfy(\.recoveredNothing) {
                failures.append(failure("crash-restart", file, output.spec, "every node restarted with an empty log although writes had been acknowledged: state is not recovered from storage"))
            }
        }
        return failures
    }

    /// Random faults over many seeds, judged by the checker against what the backend promises.
    public static func randomFaults(backend: String, promises: Promises, seeds: Int) -> [Failure] {
        judgeRandomRuns("random-faults", backend: backend, promises: promises, seeds: seeds)
    }

    /// Every fault kind at once (partitions, one-way links, crashes of one node and of a majority,
    /// pauses, lossy bursts, slow nodes, clock drift) over 3, 5 and 7 nodes, on a network that
    /// loses, duplicates and reorders throughout; `seeds` seeds at each size.
    public static func heavyFaults(backend: String, promises: Promises, seeds: Int) -> [Failure] {
        judgeRandomRuns("heavy-faults", backend: backend, promises: promises, seeds: seeds)
    }

    /// The random faults again on the real write-ahead log (`FileStorage` over each node's simulated
    /// disk), whose crashes tear the unsynced tail and whose nemesis damages synced data. Each run
    /// is judged by what the backend still promises given the damage its disks took
    /// (`Promises.kept(under:liveReplicas:)`). That the sweep's faults reach the log's recovery at all
    /// is checked once, by `LabTests.DiskFaultSweepTests`.
    public static func diskFaults(backend: String, promises: Promises, seeds: Int) -> [Failure] {
        judgeRandomRuns("disk-faults", backend: backend, promises: promises, seeds: seeds)
    }

    static func judgeRandomRuns(_ name: String, backend: String, promises: Promises, seeds: Int) -> [Failure] {
        let file = scenarioPath(name)
        let wanted: [UInt64]?
        if let seed = ProcessInfo.processInfo.environment["CONLAB_SEED"].flatMap(UInt64.init) {
            wanted = [seed]
        } else {
            wanted = seedCount(default: seeds).map { (1...UInt64($0)).map { $0 } }
        }
        guard let plan = plan(file, backend: backend, seeds: wanted) else { return [missing(file, backend)] }
        var failures: [Failure] = []
        for output in Runner.run(plan.specs) {
            let problems = promises.broken(by: output).map(\.message)
            if !problems.isEmpty { failures.append(failure(name, file, output.spec, problems.joined(separator: "; "))) }
        }
        return failures
    }

    // MARK: Append bookkeeping

    static func appendChecks(_ name: String, _ file: String, _ outputs: [RunOutput], promises: Promises) -> [Failure] {
        var failures: [Failure] = []
        for output in outputs {
            if promises.contains(.invariantsHold), let reported = Promises.reportedViolations(output.result) {
                failures.append(failure(name, file, output.spec, reported))
            }
            for (node, state) in output.result.finalStates.sorted(by: { $0.key < $1.key }) {
                for (key, value) in state.sorted(by: { $0.key < $1.key }) {
                    let fragments = value.split(separator: ";")
                    if let repeated = Dictionary(grouping: fragments, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                        failures.append(failure(name, file, output.spec, "append \(repeated) applied twice to \(key) at \(node)"))
                    }
                }
            }
            if promises.contains(.durable) {
                let lost = lostAppends(output.result)
                if !lost.isEmpty {
                    failures.append(failure(name, file, output.spec, "\(lost.count) acknowledged appends missing from the final state, e.g. \(lost.prefix(3).joined(separator: ", "))"))
                }
            }
        }
        return failures
    }

    /// Acknowledged appends absent from every live replica's final value of their key.
    static func lostAppends(_ result: SimulationResult) -> [String] {
        var present: [String: Set<Substring>] = [:]
        for state in result.finalStates.values {
            for (key, value) in state { present[key, default: []].formUnion(value.split(separator: ";")) }
        }
        var lost: [String] = []
        for operation in result.history {
            guard case .append(let key, let value) = operation.command, case .ok = operation.outcome else { continue }
            let fragment = value.dropLast()
            if present[key]?.contains(fragment) != true { lost.append("\(fragment)→\(key) (op \(operation.id))") }
        }
        return lost
    }

    // MARK: Plumbing

    struct Plan { var specs: [RunSpec] }

    static func plan(_ file: String, backend: String, seeds: [UInt64]?) -> Plan? {
        guard let scenarios = try? ScenarioFile.load(path: file) else { return nil }
        let specs = Runner.plan(experiment: scenarios[0].name, scenarios: scenarios, backendFilter: [backend], seeds: seeds)
        let exact = specs.filter { $0.backend.label == backend || ($0.backend.variant.isEmpty && $0.backend.kind.name == backend) }
        return exact.isEmpty ? nil : Plan(specs: exact)
    }

    public static func scenarioPath(_ name: String) -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("Experiments/conformance/\(name).json").path
    }

    static func relative(_ file: String) -> String {
        file.range(of: "Experiments/").map { String(file[$0.lowerBound...]) } ?? file
    }

    static func failure(_ check: String, _ file: String, _ spec: RunSpec, _ message: String) -> Failure {
        Failure(check: check, run: spec.id, message: message,
                replay: "swift run -c release conlab run \(relative(file)) --backend '\(spec.backend.label)' --seed \(spec.seed)")
    }

    static func missing(_ file: String, _ backend: String) -> Failure {
        Failure(check: "setup", run: backend, message: "\(relative(file)) does not list backend \(backend) (or does not load)", replay: "conlab list Experiments/conformance")
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false), right = b.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, (x, y)) in zip(left, right).enumerated() where x != y { return "line \(index + 1):\n  \(x)\n  \(y)" }
        return "lengths differ (\(left.count) vs \(right.count) lines)"
    }
}
