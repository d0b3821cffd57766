import Foundation
@testable import Load
import Testing

@Suite struct LoadCSVTests {
    static func result() throws -> LoadResult {
        var options = try LoadOptions(arguments: ["--target", "resp://127.0.0.1:7001,127.0.0.1:7002", "--mix", "put=1,get=1", "--duration", "2s"])
        options.clients = 4
        var tally = ClientTally()
        for latency in 1...100 { tally.record(latency % 2 == 0 ? .put : .get, .ok(.done), microseconds: Int64(latency)) }
        tally.record(.put, .failed(kind: "TIMEOUT", message: "TIMEOUT no answer"), microseconds: 5_000_000)
        return LoadResult(options: options, tally: tally)
    }

    @Test func rowsUnderOneHeader() throws {
        let path = NSTemporaryDirectory() + "conlab-load-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try LoadCSV.prepare(path)
        try LoadCSV.append(try Self.result(), to: path)
        try LoadCSV.prepare(path)
        try LoadCSV.append(try Self.result(), to: path)
        let row = #""resp://127.0.0.1:7001,127.0.0.1:7002",4,"put=1,get=1",2s,100,50.0,1,50,90,99,100,100"#
        #expect(try String(contentsOfFile: path, encoding: .utf8) == LoadCSV.columns.joined(separator: ",") + "\n" + row + "\n" + row + "\n")
    }

    @Test func aFileOfAnotherKindOrAFolderIsRefusedBeforeTheRun() throws {
        let path = NSTemporaryDirectory() + "conlab-load-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("experiment,scenario\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try LoadCSV.prepare(path) } throws: { ($0 as? LoadInputError)?.option == "--csv" }
        #expect { try LoadCSV.prepare(NSTemporaryDirectory()) } throws: { ($0 as? LoadInputError)?.option == "--csv" }
        #expect { try LoadCSV.prepare("/nonexistent-folder/x.csv") } throws: { ($0 as? LoadInputError)?.option == "--csv" }
    }

    @Test func theSummaryCountsErrorsByKind() throws {
        let summary = try Self.result().summary
        #expect(summary.contains("100 ok, 1 errors, 50.0 ops/s"))
        #expect(summary.contains("error TIMEOUT: 1 (e.g. TIMEOUT no answer)"))
    }
}
