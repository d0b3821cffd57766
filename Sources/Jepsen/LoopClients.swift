import ConsensusCore
import Dispatch
import Runtime
import Simulator

/// Our clients of a run (`ClientEngine`) on an event loop of their own.
final class LoopClients: RunClients {
    private let loop: EventLoop
    private let engine: ClientEngine

    init(addresses: [SocketAddress], config: SimulationConfig, origin: Instant) throws {
        loop = try EventLoop()
        engine = ClientEngine(loop: loop, addresses: addresses, workload: config.workload, seed: config.seed, origin: origin, duration: config.duration)
        let engine = engine
        _ = loop.execute { engine.begin() }
    }

    func finish() -> [HistoryOperation] {
        let engine = engine
        let history = Self.onLoop(loop) { engine.close(); return engine.history }
        loop.shutdown()
        return history
    }

    /// Runs `body` on the loop's thread and waits for its value.
    private static func onLoop<T>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        _ = loop.execute { box.value = body(); done.signal() }
        done.wait()
        return box.value!
    }
}

private final class Box<T>: @unchecked Sendable {
    var value: T?
}
