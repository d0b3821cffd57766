import Foundation

enum Paths {
    /// The package root, found from this file's location.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func experiment(_ name: String) -> String { root.appendingPathComponent("Experiments/\(name)").path }
}
