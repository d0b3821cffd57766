import Foundation

/// `conlab report DIR --png`: every chart also as a PNG, for slides and documents that take no
/// SVG. Drawn by `rsvg-convert` (Debian's `librsvg2-bin`) where it is installed — the lab links
/// no image library, so without it this says which package to install.
public enum PNGExport {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Twice the SVG's size: sharp on a projector.
    static let zoom = "2"

    /// Writes `charts/<name>.png` beside each `charts/<name>.svg` in `directory`; returns the paths written, relative to it.
    public static func export(directory: String, charts: [String]) throws -> [String] {
        guard let converter = executable("rsvg-convert") else {
            throw Unavailable(description: "--png needs rsvg-convert, which is not installed: apt-get install -y librsvg2-bin")
        }
        var written: [String] = []
        for chart in charts where chart.hasSuffix(".svg") {
            let png = String(chart.dropLast(4)) + ".png"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: converter)
            process.arguments = ["--zoom", zoom, "--background-color", "white", "--output",
                                 (directory as NSString).appendingPathComponent(png), (directory as NSString).appendingPathComponent(chart)]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw Unavailable(description: "rsvg-convert could not draw \(chart): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            written.append(png)
        }
        return written
    }

    /// The first executable named `name` on the `PATH`.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
