import ConsensusCore
import Foundation
import Lab
import Testing

/// Feeds damaged copies of every file in `Experiments/` to the loader, in process: each must come
/// back as a well-formed `ScenarioError` or as a scenario within `ScenarioLimits`. A trap (an
/// overflow, a bad index) kills this test process, which is the failure this test exists to show.
/// The mutations are drawn from a fixed seed; `CONLAB_FULL=1` draws many more.
@Suite struct ScenarioMutationTests {
    static let mutationsPerFile = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? 600 : 30

    /// Values that were wrong in every way once: wrong types, huge, negative, tiny durations.
    static let replacements: [JSONValue] = [
        .null, .bool(true), .string("x"), .array([]), .object([]), .number(-1), .number(0), .number(0.5), .number(1e300),
        .number(-9.3e18), .number(9.3e18), .number(1e15), .string("9999999999999999999s"), .string("1000000000s"), .string("1us"),
        .string("0us"), .string("-5ms"), .string("leader"), .array([.string("1us"), .string("1us")]), .array([.number(1), .number(1e300)]),
    ]

    @Test func damagedScenariosFailCleanlyOrStayWithinLimits() throws {
        let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Experiments")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-mutations-\(UUID().uuidString)")
        // A copy, so that suites find their scenarios and each damaged file replaces its original.
        try FileManager.default.copyItem(at: experiments, to: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = try FileManager.default.subpathsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 20)
        var random = DeterministicRandom(seed: 20_261_203, label: "scenario-mutations")
        var outcomes = (refused: 0, accepted: 0)
        for file in files {
            let path = scratch.appendingPathComponent(file).path
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            for _ in 0..<Self.mutationsPerFile {
                try Self.mutated(original, random: &random).write(to: URL(fileURLWithPath: path))
                if Self.loads(path) { outcomes.accepted += 1 } else { outcomes.refused += 1 }
            }
            try original.write(to: URL(fileURLWithPath: path))
        }
        // Both sides of the decoder are exercised, not only its first check.
        #expect(outcomes.refused > files.count)
        #expect(outcomes.accepted > files.count / 2)
    }

    /// Loads as `conlab run` would: true for a valid file (checked against the limits), false for a
    /// well-formed refusal; any other error fails the test.
    static func loads(_ path: String) -> Bool {
        do throws(ScenarioError) {
            if let study = try ElectionTimeoutStudy.load(path: path) {
                #expect(study.trials >= 1 && study.giveUpAfter > .zero && !study.ranges.isEmpty)
                return true
            }
            for scenario in try ExperimentDefinition.load(path: path).scenarios { checkLimits(scenario) }
            return true
        } catch {
            checkWellFormed(error)
            return false
        }
    }

    static func checkWellFormed(_ error: ScenarioError) {
        #expect(!error.file.isEmpty && !error.path.isEmpty && !error.reason.isEmpty)
        #expect(!error.reason.contains("NSCocoaErrorDomain") && !error.reason.contains("The operation could not be completed"), "\(error)")
    }

    static func checkLimits(_ scenario: Scenario) {
        #expect((1...ScenarioLimits.nodes).contains(scenario.nodes))
        #expect(scenario.duration > .zero && scenario.duration + scenario.quiescence <= ScenarioLimits.runLength)
        #expect((1...ScenarioLimits.seeds).contains(scenario.seeds.count))
        #expect(scenario.workload.clientsPerNode * scenario.nodes <= ScenarioLimits.clients)
        #expect(scenario.workload.retryInterval >= ScenarioLimits.shortestRetry)
        #expect(scenario.workload.redirectBackoff >= ScenarioLimits.shortestRedirectBackoff)
        #expect(scenario.storage.syncLatency < scenario.duration + scenario.quiescence)
        #expect(scenario.storage.flushInterval >= ScenarioLimits.shortestFlushInterval)
        if let nemesis = scenario.nemesis {
            #expect(nemesis.interval.lowerBound >= ScenarioLimits.shortestNemesisInterval)
            #expect(nemesis.length.lowerBound >= ScenarioLimits.shortestNemesisLength)
        }
        for step in scenario.faults {
            if case .at(let time) = step.when { #expect(time < .zero + scenario.duration) }
        }
    }

    /// One damage: a value replaced, a member removed, the text truncated or garbage bytes written.
    static func mutated(_ original: Data, random: inout DeterministicRandom) throws -> Data {
        let bytes = Array(original)
        switch random.index(below: 6) {
        case 0:
            return Data(bytes.prefix(random.index(below: bytes.count)))
        case 1:
            var damaged = bytes
            for _ in 0...random.index(below: 4) { damaged[random.index(below: damaged.count)] = UInt8(truncatingIfNeeded: random.next()) }
            return Data(damaged)
        default:
            var document = try JSONValue(parsing: String(decoding: bytes, as: UTF8.self))
            let paths = document.leafPaths()
            let path = paths[random.index(below: paths.count)]
            if random.chance(0.25), path.count > 0 {
                document.removeMember(at: path)
            } else {
                document.replace(at: path, with: replacements[random.index(below: replacements.count)])
            }
            return Data(document.serialized.utf8)
        }
    }
}

extension JSONValue {
    /// The path (member names and array positions) of every value in the document.
    func leafPaths(prefix: [String] = []) -> [[String]] {
        switch self {
        case .object(let members): [prefix] + members.flatMap { $0.value.leafPaths(prefix: prefix + [$0.key]) }
        case .array(let values): [prefix] + values.enumerated().flatMap { $1.leafPaths(prefix: prefix + [String($0)]) }
        default: [prefix]
        }
    }

    mutating func replace(at path: [String], with value: JSONValue) {
        guard let head = path.first else { self = value; return }
        switch self {
        case .object(var members):
            guard let index = members.firstIndex(where: { $0.key == head }) else { return }
            members[index].value.replace(at: Array(path.dropFirst()), with: value)
            self = .object(members)
        case .array(var values):
            guard let index = Int(head), values.indices.contains(index) else { return }
            values[index].replace(at: Array(path.dropFirst()), with: value)
            self = .array(values)
        default:
            return
        }
    }

    /// Removes the member or element at `path` (a missing field, a shorter list).
    mutating func removeMember(at path: [String]) {
        guard let head = path.first else { return }
        let rest = Array(path.dropFirst())
        switch self {
        case .object(var members):
            guard let index = members.firstIndex(where: { $0.key == head }) else { return }
            if rest.isEmpty { members.remove(at: index) } else { members[index].value.removeMember(at: rest) }
            self = .object(members)
        case .array(var values):
            guard let index = Int(head), values.indices.contains(index) else { return }
            if rest.isEmpty { values.remove(at: index) } else { values[index].removeMember(at: rest) }
            self = .array(values)
        default:
            return
        }
    }
}
