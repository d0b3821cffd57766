import Foundation
import Storage

/// The number of times a node's process has started on its data directory, kept in the file
/// `incarnation` there. Client ids minted for connections carry it (`RESP.connectionClientID`): a
/// restarted node must never hand out an id its previous life handed out while the store may still
/// hold that session, or a new connection's first request would be answered with an old one's
/// cached reply. So the new number is durable (written, fsynced, renamed, directory fsynced) before
/// the node takes a client.
enum Incarnation {
    static let fileName = "incarnation"

    /// Raises the count in `directory` and returns the new one (1 on a first start).
    static func next(in directory: String, fileSystem: PosixFileSystem = PosixFileSystem()) throws(StorageError) -> UInt64 {
        let path = (directory as NSString).appendingPathComponent(fileName)
        // The log usually made the directory; a log kept in memory (`serve --disk memory`) did not.
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var previous: UInt64 = 0
        if FileManager.default.fileExists(atPath: path) {
            let text = String(decoding: try fileSystem.readAll(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let count = UInt64(text) else {
                throw .corruptRecord(file: path, offset: 0, reason: "expected a start count, found \"\(text.prefix(40))\"")
            }
            previous = count
        }
        let temporary = path + ".tmp"
        let file = try fileSystem.overwrite(temporary)
        defer { fileSystem.close(file) }
        try fileSystem.write(Array("\(previous + 1)\n".utf8), to: file)
        try fileSystem.sync(file)
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
        return previous + 1
    }
}
