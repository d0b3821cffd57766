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
        let ours = listed.filter { NodeProcesses.status(of: $0).map { $0.state != "Z" && $0.parent == getpid() } ?? false }
        for pid in ours {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        for pid in ours { waitpid(pid, nil, 0) }
        return ours.count
    }
}
