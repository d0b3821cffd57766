import ConsensusCore
import Foundation
import Runtime
import Testing

/// Values appended from the loop thread and read from the test: the test's only shared state.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Value] = []

    func append(_ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        recorded.append(value)
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. Every wait in
/// these tests goes through here, so a broken transport fails a test instead of hanging the suite.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// A loop for the duration of `body`, shut down (thread joined) however `body` ends.
func withEventLoop<T>(_ body: (EventLoop) async throws -> T) async throws -> T {
    let loop = try EventLoop()
    defer { loop.shutdown() }
    return try await body(loop)
}
