import Checker
import ConsensusCore
import Foundation

/// Which runs of an experiment a shard's folder holds (`shard.json`), so that `conlab merge` can
/// check that the shards fit together and restore the order one machine would have written.
struct ShardManifest: Equatable {
    struct Run: Equatable {
        var position: Int
        var id: String
    }

    var experiment: String
    var shard: Int
    var of: Int
    var total: Int
    var runs: [Run]

    static let fileName = "shard.json"

    func write(to directory: String) throws {
        let runs = JSONValue.array(self.runs.map { .object([("position", .number(Double($0.position))), ("id", .string($0.id))]) })
        let document = JSONValue.object([("experiment", .string(experiment)), ("shard", .number(Double(shard))), ("of", .number(Double(of))),
                                         ("total", .number(Double(total))), ("runs", runs)])
        try Data((document.serialized + "\n").utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName))
    }

    /// Reads and checks `shard.json`: every number in range, so that a damaged manifest is named
    /// rather than trapping the merge (a shard 0 of 0, a negative total).
    static func read(from directory: String) throws(MergeError) -> ShardManifest {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { throw MergeError("\(path): missing; is \(directory) the output of `conlab run --shard`?") }
        let document: JSONValue
        do { document = try JSONValue(parsing: try Merge.text(path)) } catch let error as MergeError { throw error } catch {
            throw MergeError("\(path): invalid JSON at \(error)")
        }
        func integer(_ value: JSONValue?, _ name: String, in range: ClosedRange<Int>) throws(MergeError) -> Int {
            guard case .number(let number)? = value, number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
                throw MergeError("\(path): \(name): expected an integer from \(range.lowerBound) to \(range.upperBound), found \(value?.serialized ?? "nothing")")
            }
            return Int(number)
        }
        guard case .string(let experiment)? = document["experiment"], case .array(let runs)? = document["runs"] else {
            throw MergeError("\(path): not a shard manifest (needs \"experiment\" and \"runs\")")
        }
        let of = try integer(document["of"], "of", in: 1...1_000_000)
        let total = try integer(document["total"], "total", in: 0...100_000_000)
        var manifest = ShardManifest(experiment: experiment, shard: try integer(document["shard"], "shard", in: 1...of), of: of, total: total, runs: [])
        for (index, run) in runs.enumerated() {
            guard case .string(let id)? = run["id"] else { throw MergeError("\(path): runs[\(index)].id: expected a string") }
            manifest.runs.append(Run(position: try integer(run["position"], "runs[\(index)].position", in: 0...max(total - 1, 0)), id: id))
        }
        return manifest
    }
}

/// A merge refused, with the file or folder and the reason.
public struct MergeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// `conlab merge DIR... --out OUT`: joins shard outputs into exactly the files one machine would
/// have written (rows regrouped by run in the experiment's order, histories copied, the report
/// built from the merged files).
public enum Merge {
    public static func merge(_ directories: [String], into output: String) throws {
        if directories.contains(where: HuntLog.isHunt) { return try HuntMerge.merge(directories, into: output) }
        // Writing into a shard would replace its tables while they are read and delete its runs.
        if let input = directories.first(where: { FilePaths.same($0, output) }) {
            throw MergeError("--out \(output) is the shard folder \(input); merge into a new folder")
        }
        let manifests = try directories.map { directory throws(MergeError) in try ShardManifest.read(from: directory) }
        guard let first = manifests.first else { throw MergeError("nothing to merge") }
        for (manifest, directory) in zip(manifests, directories) where manifest.experiment != first.experiment || manifest.of != first.of || manifest.total != first.total {
            throw MergeError("\(directory) holds shard \(manifest.shard)/\(manifest.of) of \"\(manifest.experiment)\" (\(manifest.total) runs), which does not belong with \(directories[0])")
        }
        var owner: [Int: (id: String, directory: String)] = [:]
        for (manifest, directory) in zip(manifests, directories) {
            for run in manifest.runs {
                if let other = owner[run.position] { throw MergeError("run \(run.id) is in both \(other.directory) and \(directory)") }
                owner[run.position] = (run.id, directory)
            }
        }
        let missing = (0..<first.total).filter { owner[$0] == nil }
        guard missing.isEmpty else {
            let shards = Set(missing.map { $0 % first.of + 1 }).sorted().map { "\($0)/\(first.of)" }
            throw MergeError("\(missing.count) of \(first.total) runs are missing: give every shard (missing shard \(shards.joined(separator: ", ")))")
        }
        let order = (0..<first.total).map { owner[$0]!.id }
        let experiment = try identical(ExperimentFile.fileName, in: directories)
        try OutputDirectory.prepare(output)
        for (file, column) in [("summary.csv", "run"), ("timeseries.csv", "run"), ("events.csv", "run"), ("faults.csv", "run"), ("latency.csv", "run")] {
            try mergeTable(file, runColumn: column, order: order, from: directories, into: output)
        }
        // A sharded experiment's own files: in every shard that ran a sharded run.
        for file in ["groups.csv", "migrations.csv", "transactions.csv"] {
            let holding = directories.filter { FileManager.default.fileExists(atPath: URL(fileURLWithPath: $0).appendingPathComponent(file).path) }
            if !holding.isEmpty { try mergeTable(file, runColumn: "run", order: order, from: holding, into: output) }
        }
        try mergeAnomalies(order: order, from: directories, into: output)
        try experiment.write(to: URL(fileURLWithPath: output).appendingPathComponent(ExperimentFile.fileName), options: .atomic)
        for position in 0..<first.total {
            let (id, directory) = owner[position]!
            let source = URL(fileURLWithPath: directory).appendingPathComponent("runs/\(id)")
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            let target = URL(fileURLWithPath: output).appendingPathComponent("runs/\(id)")
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: target)
        }
        try Report.build(directory: output)
    }

    /// A file every shard writes alike (`experiment.json`), after checking that all agree.
    static func identical(_ file: String, in directories: [String]) throws -> Data {
        let paths = directories.map { URL(fileURLWithPath: $0).appendingPathComponent(file) }
        guard let first = try? Data(contentsOf: paths[0]) else { throw MergeError("\(paths[0].path): missing") }
        for path in paths.dropFirst() {
            guard let data = try? Data(contentsOf: path) else { throw MergeError("\(path.path): missing") }
            guard data == first else { throw MergeError("\(path.path): differs from \(paths[0].path); the shards come from different experiment files") }
        }
        return first
    }

    /// The text of a shard's file, or a merge error naming it and why it cannot be read.
    static func text(_ path: String) throws(MergeError) -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw MergeError("\(path): missing") }
        do { return try InputFile.text(at: path) } catch { throw MergeError("\(path): \(error.reason)") }
    }

    /// `anomalies.jsonl` lines carry their run: regroup them in the experiment's run order.
    static func mergeAnomalies(order: [String], from directories: [String], into output: String) throws {
        var linesByRun: [String: [String]] = [:]
        for directory in directories {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(ReportWriter.anomaliesFile).path
            let text = try text(path)
            for (index, line) in text.split(separator: "\n").enumerated() {
                guard case .string(let run)? = (try? JSONValue(parsing: String(line)))?["run"] else { throw MergeError("\(path): line \(index + 1) names no run") }
                linesByRun[run, default: []].append(String(line))
            }
        }
        let text = order.flatMap { linesByRun[$0] ?? [] }.map { $0 + "\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent(ReportWriter.anomaliesFile), options: .atomic)
    }

    static func mergeTable(_ file: String, runColumn: String, order: [String], from directories: [String], into output: String) throws {
        var header: String?
        var rowsByRun: [String: [String]] = [:]
        for directory in directories {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file).path
            let text = try text(path)
            let records = CSVRecords.split(text)
            guard let head = records.first else { throw MergeError("\(path): empty") }
            if let header, header != head.raw { throw MergeError("\(path): columns differ from the other shards'") }
            header = head.raw
            guard let index = head.fields.firstIndex(of: runColumn) else { throw MergeError("\(path): no \(runColumn) column") }
            for (line, record) in records.enumerated().dropFirst() {
                guard index < record.fields.count else { throw MergeError("\(path): record \(line + 1) has no \(runColumn) field") }
                rowsByRun[record.fields[index], default: []].append(record.raw)
            }
        }
        var text = header! + "\n"
        for id in order { for row in rowsByRun[id] ?? [] { text += row + "\n" } }
        try Data(text.utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent(file), options: .atomic)
    }
}

/// Splits CSV text into records, keeping each record's exact text (quotes and all) for re-emission.
enum CSVRecords {
    struct Record {
        var raw: String
        var fields: [String]
    }

    static func split(_ text: String) -> [Record] {
        var records: [Record] = []
        var raw = "", field = "", fields: [String] = []
        var quoted = false, previousQuote = false
        for character in text {
            if quoted {
                raw.append(character)
                if character == "\"" { quoted = false; previousQuote = true } else { field.append(character) }
                continue
            }
            switch character {
            case "\"":
                if previousQuote { field.append("\"") }
                quoted = true
                raw.append(character)
            case ",":
                fields.append(field); field = ""
                raw.append(character)
            case "\n":
                fields.append(field)
                records.append(Record(raw: raw, fields: fields))
                raw = ""; field = ""; fields = []
            default:
                raw.append(character)
                field.append(character)
            }
            previousQuote = false
        }
        if !raw.isEmpty { fields.append(field); records.append(Record(raw: raw, fields: fields)) }
        return records
    }
}
