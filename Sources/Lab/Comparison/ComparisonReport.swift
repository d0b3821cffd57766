import Foundation

/// The files `conlab compare` writes: `verdicts.csv` and `availability.csv` (every pair, for a
/// script) and `README.md` (the table a reader looks at, then every disagreement by name).
public enum ComparisonReport {
    public static let files = ["README.md", "verdicts.csv", "availability.csv"]

    /// Writes the three files into `directory`, with `command` as the line that made them.
    public static func write(_ comparison: DriverComparison, to directory: String, command: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in [("README.md", markdown(comparison, command: command)), ("verdicts.csv", verdictsCSV(comparison)),
                             ("availability.csv", availabilityCSV(comparison))] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        }
    }

    static func verdictsCSV(_ comparison: DriverComparison) -> String {
        var table = CSVTable(columns: ["run", "scenario", "backend", "seed", "verdict", "sim", "real", "sim_seeds", "decided", "agrees"])
        for row in comparison.verdicts {
            table.append([row.run, row.scenario, row.backend, row.seed, row.verdict.rawValue, row.simulated, row.real, row.simulatedSeeds,
                          String(row.decided), String(row.agrees)])
        }
        return table.text
    }

    static func availabilityCSV(_ comparison: DriverComparison) -> String {
        var table = CSVTable(columns: ["run", "scenario", "backend", "seed", "window", "faults", "side", "sim", "real", "difference", "within_tolerance"])
        for row in comparison.availability {
            table.append([row.run, row.scenario, row.backend, row.seed, String(row.window), row.faults, row.side, Number.fixed(row.simulated, 4),
                          Number.fixed(row.real, 4), Number.fixed(row.real - row.simulated, 4), String(row.withinTolerance)])
        }
        return table.text
    }

    /// The verdict columns of the page's table, in the order a reader asks about them.
    static let shownVerdicts: [DriverComparison.Verdict] = [.linearizable, .lostWrites, .divergentKeys, .atomicityViolations, .staleReads]

    static func markdown(_ comparison: DriverComparison, command: String) -> String {
        let decided = comparison.verdicts.filter(\.decided)
        let tolerance = Number.fixed(comparison.tolerance, 2)
        var text = """
        # The simulator beside real processes

        Simulated: `\(comparison.simulatedDirectory)`; real (`conlab run --real`): `\(comparison.realDirectory)`.
        Made by `\(command)`.

        - **Verdicts**: \(decided.count - comparison.disagreements.count) of the \(decided.count) verdicts every simulated seed gives
          (*decided*: they follow from the protocol and the faults, not from timing) are reproduced on real processes;
          \(comparison.verdicts.count - decided.count) more vary between simulated seeds and decide nothing.
        - **Availability** (share of operations served, for the whole run and on each side of every fault window):
          \(comparison.availability.count - comparison.outsideTolerance.count) of \(comparison.availability.count) pairs within ±\(tolerance).

        A cell reads *simulated → real*: `=` the same verdict, `✗` a decided verdict reality did not reproduce, `~` a
        verdict the simulator's own seeds disagree on (so a difference is no disagreement). Counts are shown, but
        only none against some is compared. Availability: whole run, simulated → real; worst: the largest difference
        on any side of any fault window.

        | scenario | backend | seed | linearizable | lost | divergent | atomicity | stale | availability | worst window |
        |---|---|---|---|---|---|---|---|---|---|

        """
        let byRun = Dictionary(grouping: comparison.verdicts) { $0.run }
        let availabilityByRun = Dictionary(grouping: comparison.availability) { $0.run }
        var runs: [String] = []
        for row in comparison.verdicts where runs.last != row.run { runs.append(row.run) }
        for run in runs {
            let rows = byRun[run]!, first = rows[0]
            let cells = shownVerdicts.map { verdict in cell(rows.first { $0.verdict == verdict }!) }
            let shares = availabilityByRun[run] ?? []
            let whole = shares.first { $0.window == 0 }.map { "\(Number.fixed($0.simulated, 2)) → \(Number.fixed($0.real, 2))" } ?? ""
            let worst = shares.filter { $0.window > 0 }.max { abs($0.real - $0.simulated) < abs($1.real - $1.simulated) }
                .map { "\(signed($0.real - $0.simulated)) (\($0.side), F\($0.window))" + ($0.withinTolerance ? "" : " ✗") } ?? ""
            text += "| \(first.scenario) | \(first.backend) | \(first.seed) | " + cells.joined(separator: " | ") + " | \(whole) | \(worst) |\n"
        }
        text += "\n## Decided verdicts reality did not reproduce\n\n"
        text += comparison.disagreements.isEmpty ? "None.\n" : comparison.disagreements.map { row in
            "- `\(row.run)` \(row.verdict.rawValue): simulated \(row.simulated) (every seed: \(row.simulatedSeeds)), real \(row.real)\n"
        }.joined()
        text += "\n## Availability outside ±\(tolerance)\n\n"
        text += comparison.outsideTolerance.isEmpty ? "None.\n" : comparison.outsideTolerance.map { row in
            let window = row.window == 0 ? "whole run" : "F\(row.window) (\(row.faults)), \(row.side) side"
            return "- `\(row.run)` \(window): simulated \(Number.fixed(row.simulated, 2)), real \(Number.fixed(row.real, 2))\n"
        }.joined()
        if !comparison.unpairedWindows.isEmpty {
            text += "\n## Fault windows on one driver only\n\n" + comparison.unpairedWindows.map { "- \($0)\n" }.joined()
        }
        return text
    }

    private static func cell(_ row: DriverComparison.VerdictRow) -> String {
        let mark = !row.decided ? "~" : row.agrees ? "=" : "✗"
        return row.simulated == row.real && row.decided ? "\(row.simulated) =" : "\(row.simulated) → \(row.real) \(mark)"
    }

    private static func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + Number.fixed(value, 2) }
}
