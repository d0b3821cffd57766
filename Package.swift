// swift-tools-version:6.0
import PackageDescription

// ConsensusLab depends on the Swift toolchain alone: no package dependencies, by design.

/// The simulator's hot path crosses module boundaries (Simulator → backend → ConsensusCore), so
/// generic code is specialised across modules, and release builds drop the dynamic exclusivity
/// checks on the simulator's class state. See BENCHMARKS.md for what each buys.
/// Debug builds of these modules are optimised too: the test suite simulates hours of cluster time
/// and runs about twice as fast. The code uses `precondition` (kept by -O), never `assert`.
let hotPath: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"]),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "ConsensusLab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "conlab", targets: ["conlab"]),
        .library(name: "Lab", targets: ["Lab"]),
    ],
    targets: [
        // Shared vocabulary, state machine, storage.
        .target(name: "ConsensusCore", swiftSettings: hotPath),
        .target(name: "KVStore", dependencies: ["ConsensusCore"], swiftSettings: hotPath),
        .target(name: "Storage", dependencies: ["ConsensusCore"], swiftSettings: hotPath),
        // One node's step loop, durability gate and crash semantics, shared by every driver.
        .target(name: "NodeHost", dependencies: ["ConsensusCore", "Storage"], swiftSettings: hotPath),
        // Backends: pure state machines.
        .target(name: "Unreplicated", dependencies: ["ConsensusCore", "KVStore"], swiftSettings: hotPath),
        .target(name: "Raft", dependencies: ["ConsensusCore", "KVStore"], swiftSettings: hotPath),
        .target(name: "Zab", dependencies: ["ConsensusCore", "KVStore"], swiftSettings: hotPath),
        .target(name: "AtomicCommit", dependencies: ["ConsensusCore", "KVStore"], swiftSettings: hotPath),
        .target(name: "TwoPhaseCommit", dependencies: ["ConsensusCore", "KVStore", "AtomicCommit"], swiftSettings: hotPath),
        .target(name: "ThreePhaseCommit", dependencies: ["ConsensusCore", "KVStore", "AtomicCommit"], swiftSettings: hotPath),
        .target(name: "PrimaryBackup", dependencies: ["ConsensusCore", "KVStore"], swiftSettings: hotPath),
        // The sharded KV of the eraft document (buckets, a versioned config table, server groups).
        .target(name: "Sharding", dependencies: ["ConsensusCore", "KVStore"]),
        // Drivers, checks and the lab.
        // The real driver's networking: epoll event loop, TCP, authenticated peer links (Linux).
        .systemLibrary(name: "CEpoll"),
        .target(name: "Runtime", dependencies: ["ConsensusCore", "CEpoll"], swiftSettings: hotPath),
        .target(name: "Simulator", dependencies: ["ConsensusCore", "KVStore", "Storage", "NodeHost"], swiftSettings: hotPath),
        .target(name: "Checker", dependencies: ["ConsensusCore"], swiftSettings: hotPath),
        .target(name: "RESP", dependencies: ["ConsensusCore"], swiftSettings: hotPath),
        .target(name: "Lab", dependencies: ["ConsensusCore", "KVStore", "Storage", "Simulator", "Checker", "Unreplicated", "Raft", "Zab",
                                            "TwoPhaseCommit", "ThreePhaseCommit", "PrimaryBackup", "Sharding"], swiftSettings: hotPath),
        // A node as a process (`conlab serve`) and the cluster launcher: Runtime's I/O around
        // NodeHost on a DirectoryLog, RESP clients, and the backend a cluster file names, found in
        // Lab's catalogue. A module of its own so that Runtime stays the I/O toolkit it is (Core
        // only, tested without a backend) and Lab stays free of sockets.
        .target(name: "Server", dependencies: ["ConsensusCore", "Storage", "NodeHost", "Runtime", "RESP", "Simulator", "Lab", "Raft", "Zab", "TwoPhaseCommit",
                                               "ThreePhaseCommit", "PrimaryBackup", "Unreplicated", "Sharding"], swiftSettings: hotPath),
        // `conlab load`: a closed-loop load generator for our clusters (RESP) and etcd (its v3
        // HTTP/JSON gateway), so both are measured by one client. Blocking sockets, a thread per
        // client: no event loop, so it depends on Runtime only for addresses and the clock.
        .target(name: "Load", dependencies: ["ConsensusCore", "Runtime", "Server", "Sharding"]),
        // `conlab run --real`: a scenario against a local cluster of `conlab serve` processes, with
        // real clients, the fault timeline in wall-clock time and the lab's checker (Jepsen mode).
        .target(name: "Jepsen", dependencies: ["ConsensusCore", "Storage", "Runtime", "RESP", "Simulator", "Lab", "Server", "Load", "Sharding"]),
        .executableTarget(name: "conlab", dependencies: ["Lab", "Checker", "ConsensusCore", "Server", "Load", "Jepsen"]),
        // Tests, and the conformance suite every backend's tests run.
        .target(name: "ConformanceSuite", dependencies: ["ConsensusCore", "KVStore", "Simulator", "Checker", "Lab"], path: "Tests/ConformanceSuite"),
        .testTarget(name: "ConsensusCoreTests", dependencies: ["ConsensusCore"]),
        .testTarget(name: "KVStoreTests", dependencies: ["KVStore"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Unreplicated", "Raft"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "ConformanceSuite"]),
        .testTarget(name: "UnreplicatedTests", dependencies: ["Unreplicated", "ConformanceSuite"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "NodeHostTests", dependencies: ["NodeHost", "Storage", "ConsensusCore", "Unreplicated"]),
        .testTarget(name: "CheckerTests", dependencies: ["Checker"]),
        .testTarget(name: "ShardingTests", dependencies: ["Sharding", "ConsensusCore", "KVStore", "Simulator", "Raft", "Checker", "Lab"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "ConsensusCore"]),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "KVStore", "ConformanceSuite", "Simulator", "Lab", "Checker"]),
        .testTarget(name: "ZabTests", dependencies: ["Zab", "ConformanceSuite", "Simulator", "Storage", "Lab"]),
        .testTarget(name: "PrimaryBackupTests", dependencies: ["PrimaryBackup", "ConformanceSuite", "Simulator", "Lab", "ConsensusCore", "KVStore", "Storage"]),
        .testTarget(name: "AtomicCommitTests", dependencies: ["AtomicCommit", "TwoPhaseCommit", "ThreePhaseCommit", "ConformanceSuite"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "ConsensusCore"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Runtime", "RESP", "Lab", "ConsensusCore", "Sharding"]),
        .testTarget(name: "JepsenTests", dependencies: ["Jepsen", "Lab", "Server", "Simulator", "ConsensusCore", "Sharding"]),
        .testTarget(name: "LoadTests", dependencies: ["Load", "Server", "Runtime", "ConsensusCore"]),
        .testTarget(name: "WireTests", dependencies: ["ConsensusCore", "KVStore", "Simulator", "Unreplicated", "Raft", "Zab", "AtomicCommit",
                                                     "TwoPhaseCommit", "ThreePhaseCommit", "PrimaryBackup"]),
    ]
)
