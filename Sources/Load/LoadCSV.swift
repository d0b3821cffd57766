import Foundation

/// The CSV file `--csv` names: one row per run, appended, under a header written when the file is
/// new. Columns are stable; new ones go at the end.
public enum LoadCSV {
    public static let columns = ["target", "clients", "mix", "duration", "ops", "ops_per_s", "errors",
                                 "p50_us", "p90_us", "p99_us", "p999_us", "max_us"]

    /// Checks, before the run, that the row can be written: a file that exists must start with
    /// this header, and the folder must take a new file. A run of minutes must not end in a
    /// result it cannot keep. Throws bad input naming `--csv`.
    public static func prepare(_ path: String) throws(LoadInputError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw LoadInputError("--csv", "\(path) is a folder") }
            guard let handle = FileHandle(forUpdatingAtPath: path) else { throw LoadInputError("--csv", "\(path) cannot be opened for writing") }
            let start = (try? handle.read(upToCount: header.utf8.count)) ?? nil
            try? handle.close()
            let text = start.map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard text.isEmpty || text == header else {
                throw LoadInputError("--csv", "\(path) exists and its first line is not conlab load's header (\(header.dropLast()))")
            }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw LoadInputError("--csv", "\(path) cannot be created (does its folder exist?)")
            }
        }
    }

    static var header: String { columns.joined(separator: ",") + "\n" }

    /// The run's row, as the columns name them: `ops` are successful operations, `errors` failed
    /// ones, both in the measured window; latencies are over successful operations, in µs.
    public static func row(_ result: LoadResult) -> String {
        let o = result.options, latency = result.latency
        let quantiles = latency.map { [$0.p50, $0.p90, $0.p99, $0.p999, $0.max].map(String.init) } ?? Array(repeating: "", count: 5)
        let fields = [o.target.description, String(o.clients), o.mix.description, o.duration.description, String(result.ok),
                      String(format: "%.1f", result.throughput), String(result.errorCount)] + quantiles
        return fields.map(escape).joined(separator: ",") + "\n"
    }

    /// Appends the run's row (and the header first, to an empty file).
    public static func append(_ result: LoadResult, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw LoadRunFailure(description: "--csv: cannot open \(path)") }
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        try handle.write(contentsOf: Data(((end == 0 ? header : "") + row(result)).utf8))
    }

    /// RFC 4180: quoted when it holds a comma (a target's address list, a mix of several), a quote or a line break.
    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
