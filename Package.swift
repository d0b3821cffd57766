// swift-tools-version:6.0
import PackageDescription

// ConsensusLab depends on the Swift toolchain alone: no package dependencies, by design.
let package = Package(
    name: "ConsensusLab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "conlab", targets: ["conlab"]),
        .library(name: "Lab", targets: ["Lab"]),
    ],
    targets: [
        .target(name: "ConsensusCore", swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        .target(name: "KVStore", dependencies: ["ConsensusCore"]),
        .target(name: "Storage", dependencies: ["ConsensusCore"]),
        .target(name: "Unreplicated", dependencies: ["ConsensusCore", "KVStore"]),
        .target(name: "Simulator", dependencies: ["ConsensusCore", "KVStore", "Storage"], swiftSettings: [.unsafeFlags(["-cross-module-optimization"]), .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "Lab", dependencies: ["ConsensusCore", "KVStore", "Storage", "Simulator", "Unreplicated"]),
        .executableTarget(name: "conlab", dependencies: ["Lab", "ConsensusCore"]),
    ]
)
