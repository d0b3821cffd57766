import ConsensusCore
import Foundation
import Storage

/// A log entry as a protocol would store one: a term and a command, here a string.
struct TestEntry: BinaryCodable, Hashable, Sendable, CustomStringConvertible {
    var term: UInt64
    var payload: String

    init(_ term: UInt64, _ payload: String) {
        self.term = term
        self.payload = payload
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(term)
        writer.write(payload)
    }

    init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(try reader.readUInt64(), try reader.readString())
    }

    var description: String { "\(term):\(payload)" }
}

/// Raft-like hard state: current term and vote.
struct TestHardState: BinaryCodable, Hashable, Sendable {
    var term: UInt64
    var votedFor: Int?

    func encode(to writer: inout ByteWriter) {
        writer.write(term)
        writer.write(votedFor != nil)
        if let votedFor { writer.write(votedFor) }
    }

    init(term: UInt64, votedFor: Int?) {
        self.term = term
        self.votedFor = votedFor
    }

    init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        term = try reader.readUInt64()
        votedFor = try reader.readBool() ? try reader.readInt() : nil
    }
}

typealias Op = PersistOp<TestEntry, TestHardState>
typealias State = StoredState<TestEntry, TestHardState>

/// A recovered state in a form `#expect` can compare and print.
struct Observed: Equatable, CustomStringConvertible {
    var hardState: TestHardState?
    var snapshot: Snapshot?
    var firstIndex: LogIndex
    var entries: [TestEntry]

    init(_ state: RecoveredState<TestEntry, TestHardState>) {
        hardState = state.hardState
        snapshot = state.snapshot
        firstIndex = state.firstIndex
        entries = state.entries
    }

    init(_ state: State) { self.init(state.recovered) }

    var description: String {
        let snapshotText = snapshot.map { "snapshot(\($0.lastIndex), term \($0.lastTerm), \($0.data.count) bytes)" } ?? "no snapshot"
        return "\(hardState.map { "\($0)" } ?? "no hard state"), \(snapshotText), entries from \(firstIndex): \(entries)"
    }
}

/// A fresh directory path under the system's temporary directory, deleted with this object.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("StorageTests-\(UUID().uuidString)").path
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Names of the log segments, in order.
    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted()
    }

    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: file(name)))) }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: file(name))) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Seeds for randomized sweeps: `count` by default, ten times more with CONLAB_FULL=1, K times more
/// with CONLAB_SEEDS=K (as in the conformance suite), exactly one with CONLAB_SEED=<n> (to replay a
/// failure).
func sweepSeeds(_ count: Int) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let seed = environment["CONLAB_SEED"].flatMap(UInt64.init) { return [seed] }
    let scale = environment["CONLAB_FULL"] == "1" ? 10 : max(environment["CONLAB_SEEDS"].flatMap(Int.init) ?? 1, 1)
    return (1...UInt64(count * scale)).map { $0 }
}

func replayHint(_ seed: UInt64, _ test: String) -> String {
    "seed \(seed); replay with: CONLAB_SEED=\(seed) swift test --filter \(test)"
}

enum FileManagerHelpers {
    static func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }
}
