import ConsensusCore
import Storage

/// The implementations the shared suite runs against.
enum Implementation: String, CaseIterable, CustomStringConvertible, Sendable {
    case memory
    case file
    /// `FileStorage` over a `SimulatedFileSystem` without faults: the same code as `file`, in memory.
    case simulatedFile

    var description: String { rawValue }

    /// A fresh, empty storage. `segmentSize` is small by default so that file tests rotate segments.
    func make(segmentSize: Int = 512) throws -> StorageUnderTest {
        switch self {
        case .memory:
            return StorageUnderTest(MemoryStorage<TestEntry, TestHardState>()) { storage in
                // A clean shutdown syncs; the restarted node finds the durable state.
                try storage.sync()
                storage.crash()
            }
        case .file:
            let directory = TemporaryDirectory()
            let options = FileStorage<TestEntry, TestHardState>.Options(segmentSize: segmentSize)
            return StorageUnderTest(try FileStorage(directory: directory.path, options: options), keeping: directory) { storage in
                try storage.close()
                storage = try FileStorage(directory: directory.path, options: options)
            }
        case .simulatedFile:
            let fileSystem = SimulatedFileSystem(seed: 1)
            let options = FileStorage<TestEntry, TestHardState>.Options(segmentSize: segmentSize)
            return StorageUnderTest(try FileStorage(directory: "/node", options: options, fileSystem: fileSystem)) { storage in
                try storage.close()
                storage = try FileStorage(directory: "/node", options: options, fileSystem: fileSystem)
            }
        }
    }
}

/// One storage under test behind closures, so that a parameterized test can take either
/// implementation. `restart()` shuts the storage down cleanly and starts it again from what it
/// made durable.
final class StorageUnderTest {
    private let applyOp: (Op) throws -> Void
    private let syncAll: () throws -> Void
    private let recoverState: () throws -> RecoveredState<TestEntry, TestHardState>
    private let restartStorage: () throws -> Void
    /// Kept alive (and so not deleted) as long as the storage.
    private let directory: TemporaryDirectory?

    init<S: NodeStorage>(_ storage: S, keeping directory: TemporaryDirectory? = nil, restart: @escaping (inout S) throws -> Void)
    where S.Entry == TestEntry, S.HardState == TestHardState {
        let box = Box(storage)
        applyOp = { try box.storage.apply($0) }
        syncAll = { try box.storage.sync() }
        recoverState = { try box.storage.recover() }
        restartStorage = { try restart(&box.storage) }
        self.directory = directory
    }

    func apply(_ op: Op) throws { try applyOp(op) }
    func sync() throws { try syncAll() }
    func recover() throws -> Observed { Observed(try recoverState()) }
    func restart() throws { try restartStorage() }
}

/// Lets the closures above share one (possibly value-typed) storage.
private final class Box<S> {
    var storage: S
    init(_ storage: S) { self.storage = storage }
}
