// swift-tools-version:6.0
import PackageDescription

// ConsensusLab depends on the Swift toolchain alone: no package dependencies, by design.
let package = Package(
    name: "ConsensusLab",
    platforms: [.macOS(.v14)],
    products: [
    ],
    targets: [
        .target(name: "ConsensusCore"),
        .target(name: "KVStore", dependencies: ["ConsensusCore"]),
        .target(name: "Storage", dependencies: ["ConsensusCore"]),
        .target(name: "Checker", dependencies: ["ConsensusCore"]),
        .testTarget(name: "CheckerTests", dependencies: ["Checker"]),
    ]
)
