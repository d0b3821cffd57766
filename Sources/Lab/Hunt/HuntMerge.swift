import Foundation

/// `conlab merge` of the folders of `conlab hunt --shard I/N`: one `hunt.json` with every
/// shard's runs and violations (in seed order) and their scenario files. Of a `--runs` hunt with
/// `--keep-going` (or one that found nothing) it is the folder one machine writes; without
/// `--keep-going` each shard stopped at its own first violation, so the merge lists up to one
/// per shard where one machine lists the lowest seed's alone.
enum HuntMerge {
    static func merge(_ directories: [String], into output: String) throws {
        if let input = directories.first(where: { FilePaths.same($0, output) }) {
            throw MergeError("--out \(output) is the shard folder \(input); merge into a new folder")
        }
        let logs = try directories.map { directory throws(MergeError) -> HuntLog in
            guard HuntLog.isHunt(directory) else { throw MergeError("\(directory): no \(HuntLog.fileName); give only folders of `conlab hunt --shard`") }
            return try HuntLog.read(from: directory)
        }
        var merged = logs[0]
        guard let count = merged.shard?.count else { throw MergeError("\(directories[0]): not a shard (its \(HuntLog.fileName) names no shard)") }
        var seen: [Int: String] = [:]
        for (log, directory) in zip(logs, directories) {
            guard let shard = log.shard else { throw MergeError("\(directory): not a shard (its \(HuntLog.fileName) names no shard)") }
            guard log.backend == merged.backend, log.from == merged.from, log.planned == merged.planned, log.judging == merged.judging,
                  log.keepGoing == merged.keepGoing, shard.count == count else {
                throw MergeError("\(directory) holds shard \(shard.index)/\(shard.count) of another hunt than \(directories[0]) (backend, seeds, options or shard count differ)")
            }
            if let other = seen[shard.index] { throw MergeError("shard \(shard.index)/\(count) is both \(other) and \(directory)") }
            seen[shard.index] = directory
        }
        let missing = (1...count).filter { seen[$0] == nil }
        guard missing.isEmpty else { throw MergeError("missing shard \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")): give every shard") }
        merged.shard = nil
        merged.runs = logs.map(\.runs).reduce(0, +)
        merged.undecided = logs.flatMap(\.undecided).sorted()
        merged.violations = logs.flatMap(\.violations).sorted { $0.seed < $1.seed }
        try OutputDirectory.prepare(output)
        for (log, directory) in zip(logs, directories) {
            for violation in log.violations {
                for file in violation.files {
                    let source = URL(fileURLWithPath: directory).appendingPathComponent(file)
                    let target = URL(fileURLWithPath: output).appendingPathComponent(file)
                    try? FileManager.default.removeItem(at: target)
                    try FileManager.default.copyItem(at: source, to: target)
                }
            }
        }
        try merged.write(to: output)
    }
}
