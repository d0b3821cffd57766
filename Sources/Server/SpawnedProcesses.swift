import Foundation
import Glibc

/// Every process this program started (`NodeProcesses.spawn`), so that an interrupted run can
/// stop them all (`conlab run --real` on Ctrl-C or SIGTERM: our nodes, etcd, redis-server,
/// redis-sentinel). A pid stays listed after its process ended; `killAll` signals only a pid that
/// is still a child of this program, so a number the kernel gave to someone else is never hit.
public enum SpawnedProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<pid_t> = []

    static func add(_ pid: pid_t) {
        lock.lock()
        pids.insert(pid)
        lock.unlock()
    }

    /// SIGKILLs (after a SIGCONT, for a paused one) every listed process that is still this
    /// program's child, and reaps it. Returns how many there were.
    @discardableResult
    public static func killAll() -> Int {
        lock.lock()
        let listed = pids
        pids.removeAll()
        lock.unlock()
        let ours = listed.filter { parent(of: $0) == getpid() }
        for pid in ours {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        for pid in ours { waitpid(pid, nil, 0) }
        return ours.count
    }

    /// The parent of `pid` (field 4 of /proc/PID/stat), nil when there is no such process.
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, fields[0] != "Z" else { return nil }
        return pid_t(fields[1])
    }
}
