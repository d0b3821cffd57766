import Foundation
import Lab

extension Command {
    static let compareUsage = """
    conlab compare SIM_DIR REAL_DIR [--out DIR] [--tolerance T]

    Does reality agree with the simulator? Pairs every run of REAL_DIR (written by `conlab run --real`)
    with the run of the same id in SIM_DIR (the same scenarios in the simulator, usually with more
    seeds) and compares:
      verdicts      linearizable, lost writes, divergent keys, atomicity violations, stale reads, safety
                    violations (none against some). A verdict every simulated seed gives (at least two
                    seeds) is decided by the protocol and the faults, not by timing: reality must give it
                    too. The others are shown and decide nothing.
      availability  the share of operations served, for the whole run and on each side (majority,
                    minority) of every fault window, agreeing within ±T (default 0.15).
    Prints the counts and every disagreement; with --out writes DIR/README.md (the table),
    DIR/verdicts.csv and DIR/availability.csv.

    Exit status: 0 every decided verdict reproduced, 1 one was not, 2 bad input.
    """

    static func compare(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(compareUsage); return 0 }
        var parser = ArgumentParser(arguments)
        return exitStatus {
            let out = try parser.value("--out")
            var tolerance = DriverComparison.defaultTolerance
            if let text = try parser.value("--tolerance") {
                guard let value = Double(text), (0...1).contains(value) else { throw UsageError("--tolerance: '\(text)' is not a share between 0 and 1") }
                tolerance = value
            }
            guard let simulated = try parser.positional(), let real = try parser.positional() else {
                throw UsageError("compare needs two experiment folders: conlab compare SIM_DIR REAL_DIR")
            }
            try parser.finish()
            let comparison = try DriverComparison(simulated: simulated, real: real, tolerance: tolerance)
            let decided = comparison.verdicts.filter(\.decided).count
            print("verdicts: \(decided - comparison.disagreements.count) of \(decided) decided verdicts reproduced on real processes")
            for row in comparison.disagreements {
                print("  \(row.run) \(row.verdict.rawValue): simulated \(row.simulated) (\(row.simulatedSeeds)), real \(row.real)")
            }
            print("availability: \(comparison.availability.count - comparison.outsideTolerance.count) of \(comparison.availability.count) within ±\(tolerance)")
            if let out {
                try ComparisonReport.write(comparison, to: out, command: (["conlab", "compare"] + arguments).joined(separator: " "))
                print("report → \((out as NSString).appendingPathComponent("README.md"))")
            }
            return comparison.disagreements.isEmpty ? 0 : 1
        }
    }
}
