import ConsensusCore
import Foundation
import Glibc
import Lab
import PrimaryBackup
import Raft
import Runtime
import Storage
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// `conlab serve`: one member of a cluster as a process, for the backend its cluster file names.
///
/// **Threads.** Three: the main thread starts the node and waits for its exit status; the event
/// loop's thread runs the node (`NodeServer`: every socket, timer and disk write); a signal thread
/// waits in `sigwait` for SIGTERM or SIGINT and asks the loop to stop. The signals are blocked in
/// every thread (the mask is set before the other two start, and they inherit it), so none
/// interrupts the loop or a write mid-way.
///
/// **Exit status.** 0 after SIGTERM or SIGINT, or once the process named by `--parent` is gone: the pending sync finished, and what it released was
/// sent. 1 when the node cannot start — a corrupt log record (the message names the file and the
/// offset), an address in use — or its log fails while it runs.
public enum NodeProcess {
    public struct Request: Sendable {
        public var configuration: ClusterConfiguration
        public var node: NodeID
        public var dataDirectory: String
        /// The log in memory (a simulated file system with no faults and no latency) instead of
        /// on disk: nothing survives the process. For measuring the node loop without the disk.
        public var memoryDisk: Bool
        /// The process that started this one, when the node must not outlive it (`--parent`).
        public var parent: pid_t?

        public init(configuration: ClusterConfiguration, node: NodeID, dataDirectory: String, memoryDisk: Bool = false, parent: pid_t? = nil) {
            self.configuration = configuration
            self.node = node
            self.dataDirectory = dataDirectory
            self.memoryDisk = memoryDisk
            self.parent = parent
        }
    }

    /// Runs the node until it is told to stop or fails; returns the exit status.
    public static func run(_ request: Request) -> Int32 {
        request.configuration.backend.visit(Serve(request: request))
    }
}

/// The node process for the backend type the cluster file names.
private struct Serve: BackendVisitor {
    typealias Output = Int32
    let request: NodeProcess.Request

    /// Runs the node specialised for its backend. Reached only through the visitor, the generic
    /// node would run unspecialised, looking generic metadata up on every step (a fifth of a busy
    /// node's time under `perf`); naming each backend of the catalogue here lets the compiler
    /// specialise the whole loop for it.
    func visit<Backend: ReplicationBackend>(_: Backend.Type, options: Backend.Options) -> Int32 {
        // Each call names its type: a call through a generic helper would stay unspecialised.
        switch options {
        case let options as Raft.Options where Backend.self == Raft.self: run(Raft.self, options: request.configuration.served(options))
        case let options as Zab.Options where Backend.self == Zab.self: run(Zab.self, options: options)
        case let options as TwoPhaseCommit.Options where Backend.self == TwoPhaseCommit.self: run(TwoPhaseCommit.self, options: options)
        case let options as ThreePhaseCommit.Options where Backend.self == ThreePhaseCommit.self: run(ThreePhaseCommit.self, options: options)
        case let options as PrimaryBackup.Options where Backend.self == PrimaryBackup.self: run(PrimaryBackup.self, options: options)
        case let options as Unreplicated.Options where Backend.self == Unreplicated.self: run(Unreplicated.self, options: options)
        default: run(Backend.self, options: options)
        }
    }

    private func run<Backend: ReplicationBackend>(_: Backend.Type, options: Backend.Options) -> Int32 {
        let member = request.configuration.member(request.node)!
        let log = NodeLog(node: member.id)
        let stopSignals = StopSignals()
        let exit = ExitStatus()
        let loop: EventLoop
        do { loop = try EventLoop() } catch {
            log.write("cannot start the event loop: \(error)")
            return 1
        }
        let server = Confined<NodeServer<Backend>>()
        loop.execute { [request] in
            let node = NodeServer<Backend>(loop: loop, configuration: request.configuration, member: member, options: options,
                                           dataDirectory: request.dataDirectory,
                                           fileSystem: request.memoryDisk ? SimulatedFileSystem(seed: 0, syncLatency: .zero) : PosixFileSystem(),
                                           onFailure: { exit.finish($0) })
            server.value = node
            do {
                try node.start()
            } catch {
                log.write("refusing to start: \(Self.startFailure(error))")
                exit.finish(1)
            }
        }
        let stop: @Sendable (String) -> Void = { reason in
            loop.execute {
                log.write("\(reason): stopping")
                server.value?.stop()
                exit.finish(0)
            }
        }
        stopSignals.whenSignalled { signal in stop(signal == SIGTERM ? "SIGTERM" : "SIGINT") }
        if let parent = request.parent { ParentWatch.whenGone(parent) { stop("the process that started this node (pid \(parent)) is gone") } }
        let status = exit.wait()
        loop.shutdown()
        return status
    }

    /// What the operator needs to read when a node will not start.
    static func startFailure(_ error: any Error) -> String {
        guard let storage = error as? StorageError, case .corruptRecord = storage else { return "\(error)" }
        return "\(storage). The node must not run on a log whose synced records are damaged: "
            + "it could forget entries it acknowledged. Restore its data directory, or replace the node."
    }
}

/// A node started by a runner (`conlab run --real`, a test) must not outlive it: a runner killed
/// by SIGKILL, or a test process that traps, runs no cleanup, and its nodes would go on serving
/// ports and filling folders nobody removes. An orphan is adopted by another process, so its
/// parent pid changes; a thread of its own notices within `interval`. (`PR_SET_PDEATHSIG` would
/// be immediate, but it fires when the *thread* that spawned the node ends, and a runner may
/// start nodes from threads that end long before it does.)
private enum ParentWatch {
    static let interval: useconds_t = 200_000

    static func whenGone(_ parent: pid_t, _ action: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            while getppid() == parent { usleep(interval) }
            action()
        }
    }
}

/// SIGTERM and SIGINT, taken by a thread of their own instead of interrupting the others. The
/// constructor blocks them in the calling thread, so create it before any other thread starts.
private final class StopSignals: Sendable {
    init() {
        var set = Self.signals
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private static var signals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    /// Calls `action` with the first of the signals to arrive, on a thread of its own.
    func whenSignalled(_ action: @escaping @Sendable (Int32) -> Void) {
        Thread.detachNewThread {
            var set = Self.signals
            var signal: Int32 = 0
            sigwait(&set, &signal)
            action(signal)
        }
    }
}

/// The process's exit status, set once by whichever thread decides it; the main thread waits.
private final class ExitStatus: @unchecked Sendable {
    private let condition = NSCondition()
    private var status: Int32?

    func finish(_ value: Int32) {
        condition.lock()
        defer { condition.unlock() }
        guard status == nil else { return }
        status = value
        condition.signal()
    }

    func wait() -> Int32 {
        condition.lock()
        defer { condition.unlock() }
        while status == nil { condition.wait() }
        return status!
    }
}

/// A value only the event loop's thread touches, handed between closures that run there.
private final class Confined<Value>: @unchecked Sendable {
    var value: Value?
}
