import ConsensusCore
import Foundation
import Glibc

/// A node process's log: a line per event on standard error, stamped with the wall-clock time in
/// UTC (for people laying several nodes' logs side by side; the node's own timers never read it)
/// and the node's id.
struct NodeLog: Sendable {
    let node: NodeID

    func write(_ message: String) {
        FileHandle.standardError.write(Data("\(Self.timestamp()) \(node) \(message)\n".utf8))
    }

    /// `2026-12-04T05:28:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_nsec / 1_000_000))
    }
}
