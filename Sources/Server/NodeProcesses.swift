import Foundation
import Glibc
import Runtime

/// Starting and stopping node processes by pid, for `conlab cluster` and the real-process tests.
public enum NodeProcesses {
    /// This program's executable (a node process is `conlab serve`, the same executable).
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts `executable` with `arguments` in a process group of its own (a Ctrl-C meant for the
    /// launcher does not reach it), standard input from /dev/null and both outputs appended to
    /// `logFile`, with no signal blocked or ignored.
    public static func spawn(_ executable: String, _ arguments: [String], logFile: String) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SystemError("start \(executable)", errno: result) }
        SpawnedProcesses.add(pid)
        return pid
    }

    /// Whether `pid` is a running process (a zombie waiting to be reaped is not).
    public static func isAlive(_ pid: pid_t) -> Bool {
        status(of: pid).map { $0.state != "Z" } ?? false
    }

    /// `pid`'s state letter (`R`, `S`, `T` stopped, `Z` zombie, …) and parent, from
    /// /proc/PID/stat (the fields after the command name, which may itself hold spaces and
    /// parentheses); nil when there is no such process.
    public static func status(of pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }

    /// The arguments `pid` was started with; empty when there is no such process.
    public static func arguments(of pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `pid` is `conlab serve` for `node` of the cluster in `clusterFile`: a pid recorded
    /// long ago may belong to another process by now, which must never be signalled.
    public static func isNode(_ pid: pid_t, node: String, clusterFile: String) -> Bool {
        let arguments = arguments(of: pid)
        func value(_ option: String) -> String? {
            arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        return isAlive(pid) && arguments.contains("serve") && value("--node") == node && value("--cluster") == clusterFile
    }

    /// Sends SIGTERM to each of `pids`, waits up to `grace` for them to end, then SIGKILLs the
    /// rest. Returns the pids that had to be killed. `reap` collects exited children (a launcher's
    /// or a test's own processes); processes of another parent are reaped by theirs.
    public static func stop(_ pids: [pid_t], grace: TimeInterval, reap: Bool) -> [pid_t] {
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        var running = pids
        while !running.isEmpty && Date() < deadline {
            if reap { for pid in running { _ = waitpid(pid, nil, WNOHANG) } }
            running = running.filter(isAlive)
            if !running.isEmpty { usleep(20_000) }
        }
        for pid in running { kill(pid, SIGKILL) }
        if reap { for pid in running { _ = waitpid(pid, nil, 0) } }
        return running
    }
}
