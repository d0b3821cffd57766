import ConsensusCore
import Foundation
@testable import Lab
import Testing

@Suite struct ShardMergeTests {
    let scenario = """
    {"version": 1, "name": "shards", "nodes": 3, "duration": "1s", "quiescence": "200ms", "seeds": {"from": 1, "count": 5},
     "backends": ["unreplicated"], "workload": {"clientsPerNode": 1, "think": "5ms"},
     "faults": [{"at": "300ms", "partition": [[1], [2, 3]]}, {"at": "600ms", "heal": true}],
     "sweep": {"network.loss": [0, 0.1]}, "network": {"loss": 0}}
    """

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("conlab-\(name)-\(UUID().uuidString)").path
    }

    func contents(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)!
        while let file = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + file, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files[file] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)) }
        }
        return files
    }

    @Test func shardsMergeIntoExactlyTheSingleMachineOutput() throws {
        let file = temporary("scenario") + ".json"
        try Data(scenario.utf8).write(to: URL(fileURLWithPath: file))
        let single = temporary("single"), merged = temporary("merged")
        let shards = (1...3).map { _ in temporary("shard") }
        defer { for path in [file, single, merged] + shards { try? FileManager.default.removeItem(atPath: path) } }

        _ = try Experiment.run(ExperimentRequest(scenarioPath: file, outputDirectory: single))
        for (index, directory) in shards.enumerated() {
            _ = try Experiment.run(ExperimentRequest(scenarioPath: file, outputDirectory: directory, jobs: 1, shard: Shard(parsing: "\(index + 1)/3")))
        }
        // Shards in any order.
        try Merge.merge(shards.reversed(), into: merged)
        let expected = try contents(single), actual = try contents(merged)
        // 5 CSVs, 10 histories, experiment.json, index.html, 7 charts per sweep point (the
        // unreplicated server has no elections to chart) and one per measure across them.
        #expect(expected.count == 6 + 10 + 1 + 1 + 2 * 7 + BarChart.Measure.all.count)
        #expect(actual == expected)

        #expect(throws: MergeError.self) { try Merge.merge(Array(shards.prefix(2)), into: temporary("incomplete")) }
        #expect(throws: MergeError.self) { try Merge.merge([shards[0], shards[0], shards[1], shards[2]], into: temporary("twice")) }
    }

    @Test func shardArgumentIsValidated() {
        #expect(Shard(parsing: "1/1") != nil)
        #expect(Shard(parsing: "3/8")?.includes(2) == true)
        #expect(Shard(parsing: "3/8")?.includes(10) == true)
        #expect(Shard(parsing: "0/8") == nil)
        #expect(Shard(parsing: "9/8") == nil)
        #expect(Shard(parsing: "x") == nil)
    }
}
