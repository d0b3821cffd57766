import ConsensusCore
import Foundation
import Testing
@testable import Checker

@Suite struct CheckCommandTests {
    /// A fresh directory holding `history.jsonl` with these lines.
    func historyFile(_ lines: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("checker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("history.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func anomaliesFile(besides path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("anomalies.jsonl").path
    }

    @Test func linearizableHistoryExitsZero() throws {
        let path = try historyFile([put(0, "v1", 0, 10), get(1, "v1", 20, 30)].map(\.jsonLine))
        let result = CheckCommand.run(path: path)
        #expect(result.exitStatus == 0)
        #expect(result.text.contains("linearizable: true"))
        #expect(!FileManager.default.fileExists(atPath: anomaliesFile(besides: path)))
    }

    @Test func violationExitsOneAndWritesAnomaliesWhenAsked() throws {
        let path = try historyFile([put(0, "v1", 0, 10), put(1, "v2", 20, 30), get(2, "v1", 40, 50)].map(\.jsonLine))
        let result = CheckCommand.run(path: path, options: .init(writeAnomalies: true))
        #expect(result.exitStatus == 1)
        #expect(result.text.contains("linearizable: false"))
        #expect(result.text.contains("stale reads: 1"))
        let written = try String(contentsOfFile: anomaliesFile(besides: path), encoding: .utf8)
        #expect(written.split(separator: "\n").count == 2)
        #expect(written.contains(#""kind":"stale-read""#))
    }

    @Test func exhaustedBudgetExitsThree() throws {
        let path = try historyFile(withFoldedValues(operations: 100, clients: 4, seed: 1).map(\.jsonLine))
        let result = CheckCommand.run(path: path, options: .init(budget: CheckBudget(stepsPerKey: 5)))
        #expect(result.exitStatus == 3)
        #expect(result.text.contains("linearizable: unknown"))
        #expect(result.text.contains("search budget of 5 steps exhausted"))
    }

    @Test func badInputExitsTwoNamingTheLine() throws {
        let path = try historyFile([put(0, "v1", 0, 10).jsonLine, #"{"id":1,"op":"get"}"#])
        let result = CheckCommand.run(path: path)
        #expect(result.exitStatus == 2)
        #expect(result.text == "error: \(path): line 2: missing field \"key\"\n")
        let missing = CheckCommand.run(path: path + ".missing")
        #expect(missing.exitStatus == 2)
        #expect(missing.text == "error: \(path).missing: no such file\n")
    }

    @Test func anUnwritableAnomaliesFileIsNamedWithTheSystemsReason() throws {
        let path = try historyFile([put(0, "v1", 0, 10).jsonLine])
        try FileManager.default.createDirectory(atPath: anomaliesFile(besides: path), withIntermediateDirectories: true)
        let result = CheckCommand.run(path: path, options: .init(writeAnomalies: true))
        #expect(result.exitStatus == 2)
        #expect(result.text.hasSuffix("error: cannot write \(anomaliesFile(besides: path)): Is a directory\n"), "\(result.text)")
    }

    /// Each used to reach the user as a Foundation error ("NSCocoaErrorDomain error 256") or to be
    /// accepted; each is now bad input naming the file (and line) and the reason.
    @Test func unusableFilesAndNegativeFieldsAreBadInput() throws {
        let path = try historyFile([put(0, "v1", 0, 10).jsonLine])
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let garbage = directory + "/garbage.jsonl"
        try Data([0x7B, 0x0A, 0x22, 0xFF, 0x22]).write(to: URL(fileURLWithPath: garbage))
        let cases = [
            (directory, "error: \(directory): is a directory, not a file\n"),
            ("/dev/null", "error: /dev/null: is not a regular file (a device, pipe or socket)\n"),
            (garbage, "error: \(garbage): not valid UTF-8: byte 0xFF at offset 3 (line 2)\n"),
            (try historyFile([put(0, "v1", -5, 10).jsonLine]), "line 1: field \"invoke_us\" must not be negative, found -5\n"),
            (try historyFile([put(-1, "v1", 0, 10).jsonLine]), "line 1: field \"id\" must not be negative, found -1\n"),
        ]
        for (file, message) in cases {
            let result = CheckCommand.run(path: file)
            #expect(result.exitStatus == 2)
            #expect(result.text.hasSuffix(message), "\(result.text)")
        }
    }
}
