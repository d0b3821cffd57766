import Foundation

/// The run a replay runs again: a run of an experiment folder (`conlab replay RUN_DIR`), found
/// again in the scenario file it came from, or a run a scenario file names by backend and seed.
///
/// A simulated run is a pure function of (scenario, backend, seed, code version), so nothing but
/// these is stored: the replay re-runs the simulation with message tracing on and checks that its
/// history is the one the run recorded.
package struct ReplayTarget {
    package var spec: RunSpec
    /// The run's recorded `history.jsonl`, when it was kept: the replay's must be the same bytes.
    package var recordedHistory: String?
    /// Where the page goes unless `--out` says otherwise.
    package var defaultPage: String
    /// The command that makes this page, without window options (the page says how to add them).
    package var command: String

    static let pageName = "replay.html"

    /// `EXPERIMENT/runs/RUN_ID`: the run's row in `EXPERIMENT/summary.csv` gives its seed and
    /// driver; the scenario file is `scenarioFile`, or `Experiments/<experiment name>.json`.
    package static func run(directory: String, scenarioFile: String?) throws -> ReplayTarget {
        // Split by hand: Foundation's path functions trap on some short paths (".").
        var parts = directory.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        while parts.count > 1, parts.last == "" { parts.removeLast() }
        let trimmed = parts.joined(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "runs", let id = parts.last, !id.isEmpty, id != ".", id != ".." else {
            throw ReportError(directory, "not a run folder: replay takes EXPERIMENT/runs/RUN_ID (a folder `conlab run` wrote), "
                              + "or a scenario file with --backend and --seed")
        }
        let experiment = parts.count == 2 ? "." : parts.dropLast(2).joined(separator: "/")
        let summary = try CSVReader(experiment.isEmpty ? "/" : experiment, "summary.csv", required: ["experiment", "run", "seed"])
        guard let row = summary.rows.first(where: { $0.string("run") == id }) else {
            throw ReportError(experiment + "/summary.csv", "no run \"\(id)\"; its runs: "
                              + summary.rows.map { $0.string("run") }.prefix(12).joined(separator: ", "))
        }
        if row.columns["driver"] != nil, row.string("driver") != SimulatorDriver().name {
            throw ReportError(directory, "a \(row.string("driver")) run (driver column of summary.csv): only a simulated run can be replayed "
                              + "message by message; run the scenario again with `conlab run FILE --real --seed N`, or replay the simulator's run")
        }
        guard let seed = UInt64(row.string("seed")) else { throw ReportError(row.file, "line \(row.line), seed: not a seed") }
        let file = scenarioFile ?? "Experiments/\(row.string("experiment")).json"
        guard FileManager.default.fileExists(atPath: file) else {
            throw ReportError(file, "no such scenario file; give the file run \(id) came from with --scenario FILE")
        }
        let definition = try ExperimentDefinition.load(path: file)
        guard let spec = Runner.plan(experiment: definition.name, scenarios: definition.scenarios, seeds: [seed]).first(where: { $0.id == id }) else {
            throw ReportError(file, "has no run \"\(id)\" (seed \(seed)): give the file the run came from with --scenario FILE")
        }
        let history = try? String(contentsOfFile: trimmed + "/history.jsonl", encoding: .utf8)
        let option = scenarioFile.map { " --scenario \($0)" } ?? ""
        return ReplayTarget(spec: spec, recordedHistory: history, defaultPage: trimmed + "/" + pageName,
                            command: "conlab replay \(trimmed)\(option)")
    }

    /// The one run of `file` that `backend` (as `--backend` takes it) and `seed` pick; without a
    /// seed, the scenario must list one.
    package static func scenario(file: String, backend: String?, seed: UInt64?) throws -> ReplayTarget {
        let definition = try ExperimentDefinition.load(path: file)
        var plan = Runner.plan(experiment: definition.name, scenarios: definition.scenarios, backendFilter: backend.map { [$0] },
                               seeds: seed.map { [$0] })
        // `2pc` selects every 2PC variant for `conlab run`; here, where one run is wanted, the
        // variant whose label it is exactly (the defaults) wins.
        if plan.count > 1, let backend, plan.contains(where: { $0.backend.label == backend }) { plan.removeAll { $0.backend.label != backend } }
        guard plan.count == 1, let spec = plan.first else {
            let runs = plan.prefix(12).map(\.id).joined(separator: ", ") + (plan.count > 12 ? ", …" : "")
            var labels: [String] = []
            for run in plan where !labels.contains(run.backend.label) { labels.append(run.backend.label) }
            let seeds = Set(plan.map(\.seed)).sorted().map(String.init).joined(separator: ", ")
            let reason = plan.isEmpty ? "no run matches --backend \(backend ?? "(none)")"
                : "\(plan.count) runs match (\(runs)); pick one with --backend (one of \(labels.joined(separator: ", "))) and --seed (one of \(seeds))"
            throw ReportError(file, reason)
        }
        let folder = "Reports/\(definition.name.fileSafe)/runs/\(spec.id)"
        return ReplayTarget(spec: spec, recordedHistory: nil, defaultPage: (folder as NSString).appendingPathComponent(pageName),
                            command: "conlab replay \(file) --backend '\(spec.backend.label)' --seed \(spec.seed)")
    }
}
