import ConsensusCore
@testable import Load
import Testing

@Suite struct ClientWorkloadTests {
    static func options(_ mix: String, keys: Int = 100, valueBytes: Int = 16, seed: UInt64 = 1) throws -> LoadOptions {
        var options = try LoadOptions(arguments: ["--target", "resp://127.0.0.1:7001", "--mix", mix])
        options.keys = keys
        options.valueBytes = valueBytes
        options.seed = seed
        return options
    }

    static func operations(_ options: LoadOptions, client: Int, count: Int = 200) -> [Operation] {
        var workload = ClientWorkload(client: client, options: options)
        return (0..<count).map { _ in workload.next() }
    }

    @Test func aSeedFixesEachClientsSequence() throws {
        let options = try Self.options("put=1,get=1,cas=1,append=1,del=1")
        #expect(Self.operations(options, client: 3) == Self.operations(options, client: 3))
        #expect(Self.operations(options, client: 3) != Self.operations(options, client: 4))
        #expect(Self.operations(options, client: 3) != Self.operations(try Self.options("put=1,get=1,cas=1,append=1,del=1", seed: 2), client: 3))
    }

    @Test func theMixAndTheKeySpaceAreHonoured() throws {
        let operations = Self.operations(try Self.options("put=3,get=1", keys: 10), client: 0, count: 8_000)
        let puts = operations.filter { $0.kind == .put }.count
        #expect(abs(puts - 6_000) < 300, "about 3 puts in 4: \(puts)")
        #expect(Set(operations.map(\.kind)) == [.put, .get])
        #expect(Set(operations.map(\.key)) == Set((0..<10).map { "key:\($0)" }))
    }

    @Test func valuesHaveTheirLengthAndAreNew() throws {
        let operations = Self.operations(try Self.options("put", valueBytes: 64), client: 12)
        #expect(operations.allSatisfy { $0.value.utf8.count == 64 })
        #expect(Set(operations.map(\.value)).count == operations.count)
        #expect(Self.operations(try Self.options("put", valueBytes: 3), client: 12).allSatisfy { $0.value.utf8.count == 3 })
    }

    /// A cas expects the value its client last saw: the preload value first, then what it read or wrote.
    @Test func casExpectsTheLastValueSeen() throws {
        var workload = ClientWorkload(client: 0, options: try Self.options("cas", keys: 1, valueBytes: 20))
        let first = workload.next()
        #expect(first.expected == ClientWorkload.preloadValue(0, bytes: 20))
        workload.observe(first, .ok(.done))
        let second = workload.next()
        #expect(second.expected == first.value)
        workload.observe(second, .ok(.casMismatch))
        #expect(workload.next().expected == first.value, "a cas that did not apply teaches nothing")
        workload.observe(Operation(kind: .get, key: "key:0"), .ok(.value("read")))
        #expect(workload.next().expected == "read")
    }

    @Test func nearestRankQuantiles() throws {
        let summary = try #require(LatencySummary(sorted: Array(1...1000).map(UInt32.init)))
        #expect([summary.p50, summary.p90, summary.p99, summary.p999, summary.max] == [500, 900, 990, 999, 1000])
        let one = try #require(LatencySummary(sorted: [42]))
        #expect([one.p50, one.p99, one.max] == [42, 42, 42])
        #expect(LatencySummary(sorted: []) == nil)
    }
}
