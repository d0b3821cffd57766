import CEpoll
import ConsensusCore
import Foundation
import Glibc

/// One thread that waits in `epoll_wait` and runs everything a node's networking does: descriptor
/// callbacks, timers, closures handed over from other threads, and the flushing of output queues.
///
/// **Threading.** The loop owns its thread, started by `init` and joined by `shutdown()`. Everything
/// registered with it (connections, listeners, transports, timers) is confined to that thread and
/// needs no locks; the methods that say so check it. Other threads talk to the loop only through
/// `execute(_:)`/`submit(_:)`, which queue a closure under a lock and wake the loop by its eventfd.
///
/// **Level-triggered.** A descriptor stays ready until its handler has read (or written) what it
/// can, so a handler may stop early — after a bounded number of reads, to be fair to other peers —
/// and hear of the rest at the next turn; with edge triggering a handler that stopped before
/// `EAGAIN` would never be woken again, a hang no test reliably catches. The cost, a wake-up at every
/// turn for a socket that is writable, is avoided by asking for write readiness only while output
/// is queued.
///
/// **Time.** Timers run on `MonotonicClock`; `epoll_wait` sleeps in whole milliseconds, rounded up,
/// so a timer fires at most about a millisecond late and never early.
///
/// **One turn:** wait (not at all when output is waiting to be flushed), dispatch the ready
/// descriptors, run the timers due, run the queued closures, flush the output queues written to,
/// run the end-of-turn actions and flush what they wrote. Writes are flushed once per turn, so the messages a turn produces for a peer
/// leave in one system call.
public final class EventLoop: @unchecked Sendable {
    /// Bytes read from a socket per `read` call; one buffer per loop, lent to the handler reading.
    static let readBufferSize = 64 << 10
    private static let eventCapacity = 256
    /// The epoll key of the wake-up eventfd (descriptor keys are generation << 32 | fd, never all ones).
    private static let wakeKey = UInt64.max

    private struct Registration {
        var handler: IOHandler
        var generation: UInt32
        var interest: IOInterest
    }

    private enum State { case running, stopping, stopped }

    private let epoll: Int32
    private let wake: Int32
    private var thread = pthread_t()

    // Shared with other threads, under `lock`.
    private let lock = NSLock()
    private var state = State.running
    private var tasks: [@Sendable () -> Void] = []
    private var spareTasks: [@Sendable () -> Void] = []
    private var wakePending = false

    // The loop thread's own.
    /// Indexed by descriptor. A registration's generation tells a stale event (its descriptor was
    /// closed and reused during the same turn) from one for the new owner.
    private var registrations: [Registration?] = []
    private var nextGeneration: UInt32 = 0
    private var timers = TimerQueue()
    private var dueTimers: [TimerID] = []
    private var endOfTurn: [() -> Void] = []
    private var flushes: [FlushTarget] = []
    private var spareFlushes: [FlushTarget] = []
    private let events: UnsafeMutablePointer<epoll_event>
    /// Lent to whichever handler reads: handlers run one at a time, so one buffer serves them all.
    let readBuffer: UnsafeMutableRawBufferPointer

    /// Creates the loop and starts its thread.
    public init() throws(SystemError) {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw .last("epoll_create1") }
        wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            let error = SystemError.last("eventfd")
            close(epoll)
            throw error
        }
        events = .allocate(capacity: Self.eventCapacity)
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeKey
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            let error = SystemError.last("epoll_ctl add eventfd")
            releaseResources()
            throw error
        }
        // The thread waits for this lock before its first turn, so `thread` is set before it runs.
        lock.lock()
        defer { lock.unlock() }
        // The thread holds the loop until `run` returns.
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            releaseResources()
            throw SystemError("pthread_create", errno: result)
        }
    }

    private func releaseResources() {
        close(epoll)
        close(wake)
        events.deallocate()
        readBuffer.deallocate()
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoopThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

    func preconditionInLoop(_ function: StaticString = #function) {
        precondition(inLoopThread, "\(function) must be called on its event loop's thread")
    }

    // MARK: Other threads

    /// Runs `task` on the loop thread at its next turn. Returns false, and drops the task, once the
    /// loop has shut down. Tasks run in the order they were queued.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard state != .stopped else { return false }
        tasks.append(task)
        wakeUpLocked()
        return true
    }

    /// Runs `body` on the loop thread and returns its result.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(EventLoopShutDown) -> T {
        let result: T? = await withCheckedContinuation { continuation in
            guard execute({ continuation.resume(returning: body()) }) else { return continuation.resume(returning: nil) }
        }
        guard let result else { throw EventLoopShutDown() }
        return result
    }

    /// Stops the loop and waits for its thread to end. Handlers still registered are told to close
    /// their descriptors, pending timers are dropped, closures queued before the stop still run.
    /// Call it from another thread (it joins the loop's); calls after the first return at once.
    public func shutdown() {
        precondition(!inLoopThread, "shutdown() joins the loop thread, so it cannot run on it")
        lock.lock()
        let first = state == .running
        if first {
            state = .stopping
            wakeUpLocked()
        }
        lock.unlock()
        guard first else { return }
        pthread_join(thread, nil)
        releaseResources()
    }

    /// Writes the eventfd unless a wake-up is already pending. Under `lock`, so that `shutdown()`
    /// cannot close the descriptor between the check of `state` and the write.
    private func wakeUpLocked() {
        guard !wakePending else { return }
        wakePending = true
        var one: UInt64 = 1
        // Cannot block or fail short of the counter reaching 2^64 - 1, which pending wake-ups never do.
        _ = write(wake, &one, 8)
    }

    // MARK: Descriptors (loop thread)

    /// Starts reporting `fd`'s readiness to `handler`. The handler owns the descriptor; it must
    /// `deregister` it before closing it.
    public func register(_ fd: Int32, interest: IOInterest, handler: IOHandler) throws(SystemError) {
        preconditionInLoop()
        nextGeneration &+= 1
        var event = epoll_event()
        event.events = interest.epollEvents
        event.data.u64 = UInt64(nextGeneration) << 32 | UInt64(UInt32(fd))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { throw .last("epoll_ctl add fd \(fd)") }
        if registrations.count <= Int(fd) { registrations.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - registrations.count)) }
        registrations[Int(fd)] = Registration(handler: handler, generation: nextGeneration, interest: interest)
    }

    /// Changes what `fd` is watched for; a no-op when it is already that.
    public func setInterest(_ interest: IOInterest, for fd: Int32) throws(SystemError) {
        preconditionInLoop()
        guard Int(fd) < registrations.count, let registration = registrations[Int(fd)] else {
            preconditionFailure("fd \(fd) is not registered with this loop")
        }
        guard registration.interest != interest else { return }
        var event = epoll_event()
        event.events = interest.epollEvents
        event.data.u64 = UInt64(registration.generation) << 32 | UInt64(UInt32(fd))
        guard epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) == 0 else { throw .last("epoll_ctl modify fd \(fd)") }
        registrations[Int(fd)]!.interest = interest
    }

    /// Stops watching `fd`; call it before closing the descriptor.
    public func deregister(_ fd: Int32) {
        preconditionInLoop()
        guard Int(fd) < registrations.count, registrations[Int(fd)] != nil else { return }
        // Fails only if fd is not in the set, which the registration table rules out.
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        registrations[Int(fd)] = nil
    }

    /// Descriptors registered (the wake-up eventfd aside): tests check that closing releases them.
    var registeredCount: Int {
        preconditionInLoop()
        return registrations.lazy.filter { $0 != nil }.count
    }

    // MARK: Timers (loop thread)

    public var now: Instant { MonotonicClock.now() }

    /// Runs `action` on the loop at `deadline` or just after it.
    @discardableResult
    public func schedule(at deadline: Instant, _ action: @escaping () -> Void) -> TimerID {
        preconditionInLoop()
        return timers.schedule(at: deadline, action)
    }

    @discardableResult
    public func schedule(after delay: TimeSpan, _ action: @escaping () -> Void) -> TimerID {
        schedule(at: now + delay, action)
    }

    /// Cancels a timer that has not fired; cancelling one that fired or was cancelled does nothing.
    public func cancel(_ timer: TimerID) {
        preconditionInLoop()
        timers.cancel(timer)
    }

    // MARK: End of turn (loop thread)

    /// Runs `action` once at the end of this turn: after the ready descriptors, the timers due, the
    /// queued closures and the flush of what they wrote; what the action writes is flushed before
    /// the loop waits again. Actions queued by an action run in the same turn. A node's group
    /// commit: the messages that need not wait for the disk are on the wire before the one sync
    /// for all the turn's writes begins (a leader's entries reach the followers, whose syncs then
    /// overlap its own), and what the sync releases leaves at once.
    public func atEndOfTurn(_ action: @escaping () -> Void) {
        preconditionInLoop()
        endOfTurn.append(action)
    }

    // MARK: Flushing (loop thread)

    /// Flushes `target` at the end of this turn. The target keeps its own flag so that it is queued once.
    func scheduleFlush(_ target: FlushTarget) {
        flushes.append(target)
    }

    // MARK: The loop

    private func run() {
        lock.lock()
        lock.unlock()
        while turn() {}
        shutDownHandlers()
    }

    /// One turn; false once the loop is stopping.
    private func turn() -> Bool {
        let count = epoll_wait(epoll, events, Int32(Self.eventCapacity), pollTimeout())
        if count < 0 {
            // EINTR (a signal) is the only failure a valid epoll descriptor and buffer can see.
            precondition(errno == EINTR, "\(SystemError.last("epoll_wait"))")
        }
        for index in 0..<max(Int(count), 0) { dispatch(events[index]) }
        runDueTimers()
        let running = runTasks()
        flushWrites()
        runEndOfTurn()
        flushWrites()
        return running
    }

    /// Milliseconds `epoll_wait` may sleep: not at all with writes to flush, else until the next
    /// timer (rounded up, so a timer is never found not yet due after the wait), else indefinitely.
    private func pollTimeout() -> Int32 {
        guard flushes.isEmpty else { return 0 }
        guard let deadline = timers.nextDeadline() else { return -1 }
        let wait = (deadline - now).microseconds
        guard wait > 0 else { return 0 }
        return Int32(clamping: (wait + 999) / 1_000)
    }

    private func dispatch(_ event: epoll_event) {
        let key = event.data.u64
        guard key != Self.wakeKey else { return drainWakeUps() }
        let fd = Int(UInt32(truncatingIfNeeded: key))
        guard fd < registrations.count, let registration = registrations[fd],
              registration.generation == UInt32(truncatingIfNeeded: key >> 32) else { return }
        registration.handler.handle(IOEvents(rawValue: event.events))
    }

    private func drainWakeUps() {
        var count: UInt64 = 0
        _ = read(wake, &count, 8)
    }

    private func runDueTimers() {
        timers.collectDue(at: now, into: &dueTimers)
        for timer in dueTimers { timers.take(timer)?() }
        dueTimers.removeAll(keepingCapacity: true)
    }

    /// Runs the closures queued so far; false when the loop is to stop.
    private func runTasks() -> Bool {
        lock.lock()
        swap(&tasks, &spareTasks)
        wakePending = false
        let running = state == .running
        lock.unlock()
        for task in spareTasks { task() }
        spareTasks.removeAll(keepingCapacity: true)
        return running
    }

    private func runEndOfTurn() {
        var index = 0
        while index < endOfTurn.count {
            let action = endOfTurn[index]
            action()
            index += 1
        }
        endOfTurn.removeAll(keepingCapacity: true)
    }

    private func flushWrites() {
        guard !flushes.isEmpty else { return }
        swap(&flushes, &spareFlushes)
        for target in spareFlushes { target.flush() }
        spareFlushes.removeAll(keepingCapacity: true)
    }

    /// After the last turn: handlers close their descriptors, timers (and what their closures hold)
    /// are dropped, and closures queued meanwhile run, so that `submit` callers are answered.
    private func shutDownHandlers() {
        for registration in registrations.compactMap({ $0 }) { registration.handler.loopIsShuttingDown() }
        for fd in registrations.indices where registrations[fd] != nil { deregister(Int32(fd)) }
        timers = TimerQueue()
        endOfTurn.removeAll()
        flushes.removeAll()
        lock.lock()
        state = .stopped
        let leftover = tasks
        tasks.removeAll()
        lock.unlock()
        for task in leftover { task() }
    }
}

/// Something with queued output the loop flushes at the end of the turn it was written in.
protocol FlushTarget: AnyObject {
    func flush()
}

/// The loop was shut down before it could run a submitted closure.
public struct EventLoopShutDown: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String { "the event loop has shut down" }
}
