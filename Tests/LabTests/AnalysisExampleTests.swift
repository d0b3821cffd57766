import Foundation
import Testing

/// `Reports/analysis.py`, the pandas example the README points students to, still reads what the
/// lab writes: run on the committed CAP suite, it prints each system's sides and verdicts and
/// draws its chart. Skipped, loudly, where no Python has pandas and matplotlib.
@Suite struct AnalysisExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `python` with `arguments` from the repository root; exit status and standard output.
    static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The first Python that imports pandas and matplotlib: Debian's packages install them for
    /// /usr/bin/python3, which a pyenv or venv python3 earlier on PATH does not see.
    static var python: String? {
        ["python3", "/usr/bin/python3"].first { (try? run($0, ["-c", "import pandas, matplotlib"]).status) == 0 }
    }

    @Test func thePandasExampleReadsTheCommittedSuite() throws {
        guard let python = Self.python else {
            print("*** SKIPPED Reports/analysis.py: no python3 with pandas and matplotlib; install with: apt-get install -y python3-pandas python3-matplotlib ***")
            return
        }
        let chart = NSTemporaryDirectory() + "conlab-analysis-\(UUID().uuidString.prefix(8)).png"
        defer { try? FileManager.default.removeItem(atPath: chart) }
        let (status, output) = try Self.run(python, ["Reports/analysis.py", "Reports/cap-suite", "--scenario", "minority-partition", "--out", chart])
        #expect(status == 0, "\(output)")
        let raft = try #require(output.split(separator: "\n").first { $0.hasPrefix("raft ") }, "\(output)")
        let fields = raft.split(separator: " ")
        #expect(fields.count == 5 && fields[1] == "1.00" && fields[3] == "5/5", "raft serves its majority side and is linearizable: \(raft)")
        let png = try #require(FileManager.default.contents(atPath: chart), "the chart is written")
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        let missing = try Self.run(python, ["Reports/analysis.py", "Reports/cap-suite", "--scenario", "no-such-scenario", "--out", chart])
        #expect(missing.status != 0, "an unknown scenario is an error")
    }
}
