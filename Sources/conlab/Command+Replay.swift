import ConsensusCore
import Foundation
import Lab

extension Command {
    static let replayUsage = """
    conlab replay RUN_DIR [--scenario FILE] [--from T] [--to T] [--limit N] [--out FILE]
    conlab replay SCENARIO.json --backend NAME [--seed N] [--from T] [--to T] [--limit N] [--out FILE]

    Runs one simulated run again, with every message between nodes traced in a time window, and
    writes one self-contained page (default RUN_DIR/replay.html): the run's roles and terms over
    the whole run with the window marked, and for the window a diagram with a lane per node
    (messages as arrows from sending to arrival, labelled by type; dropped ones crossed out;
    crashes, restarts and role changes) and a lane per client (a bar per operation, coloured ok,
    failed or indeterminate), the faults and the anomalies the checker found.

    A simulated run is a pure function of its scenario, backend and seed: nothing extra is stored
    while experiments run. RUN_DIR is EXPERIMENT/runs/RUN_ID as `conlab run` writes it; its seed
    comes from EXPERIMENT/summary.csv, its scenario from Experiments/<experiment>.json (or --scenario),
    and the page says whether the replay's history equals the run's history.jsonl. Real runs
    (`conlab run --real`) cannot be replayed.

    OPTIONS
      --scenario FILE  the scenario (or suite) file RUN_DIR's experiment was run from
      --backend NAME   with SCENARIO.json: the backend, as `conlab run --backend` takes it (one variant)
      --seed N         with SCENARIO.json: the seed (needed when the scenario lists several)
      --from T         start of the window (e.g. 9.8s, 9800ms); default 50 ms before the first fault,
                       else before the first anomaly, else 0
      --to T           end of the window; default 500 ms after its start (without --from and --to: cut
                       short after the first 400 messages, to keep the diagram readable)
      --limit N        most arrows (and operation bars) drawn, default \(ReplayRequest.defaultLimit); the page says
                       how many it left out
      --out FILE       where to write the page

    Exit status: 0 page written, 1 failure, 2 bad input (a real run, no such run, a bad window).
    """

    static func replay(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(replayUsage); return 0 }
        var parser = ArgumentParser(arguments)
        return exitStatus {
            let scenario = try parser.value("--scenario"), backend = try parser.value("--backend"), seed = try parser.value("--seed")
            let from = try parser.value("--from").map { try duration($0, option: "--from") }
            let to = try parser.value("--to").map { try duration($0, option: "--to") }
            let limit = try parser.value("--limit"), out = try parser.value("--out")
            guard let target = try parser.positional() else { throw UsageError("replay needs a run folder or a scenario file\n\n\(replayUsage)") }
            try parser.finish()
            var request = ReplayRequest(target: target, scenarioFile: scenario, backend: backend, seed: try seed.map { try parseSeed($0) },
                                        from: from, to: to, out: out)
            if let limit {
                guard let value = Int(limit), value > 0 else { throw UsageError("--limit takes a positive integer") }
                request.limit = value
            }
            if request.targetIsScenarioFile {
                guard scenario == nil else { throw UsageError("--scenario goes with a run folder; \(target) is a scenario file already") }
            } else {
                guard backend == nil, seed == nil else {
                    throw UsageError("--backend and --seed pick a run of a scenario file; \(target) is a run folder (one run) or no file at all")
                }
            }
            let outcome = try Replay.write(request)
            print("replay: \(outcome.window), \(outcome.messages) messages"
                  + (outcome.omitted > 0 ? " (\(outcome.omitted) more not drawn: shorten the window or raise --limit)" : "") + " → \(outcome.page)")
            if outcome.reproduced == false {
                fail("warning: the replay's history differs from the run's history.jsonl: the code or the scenario changed since the run")
            }
            return 0
        }
    }

    /// A time of the run as `--from`/`--to` take it.
    static func duration(_ text: String, option: String) throws -> TimeSpan {
        do { return try TimeSpan.parse(bounded: text) } catch { throw UsageError("\(option): \(error)") }
    }
}
