import ConsensusCore
import Dispatch
import Runtime
import Lab
import Simulator

/// Our clients of a run (`ClientEngine`) on an event loop of their own.
final class LoopClients: RunClients {
    private let loop: EventLoop
    private let engine: ClientEngine

    /// `routes` made on `loop` (the clients' own loop: a sharded store's routes answer on it).
    /// `sharded`: the clients of a sharded deployment, with its transactions, started as the
    /// simulator's sharded clients start (`ClientEngine.staggered`).
    init(loop: EventLoop, routes: any ClientRoutes, config: SimulationConfig, sharded: ShardClients.TransactionMix? = nil, origin: Instant) {
        self.loop = loop
        engine = ClientEngine(loop: loop, routes: routes, workload: config.workload, transactions: sharded ?? .init(), staggered: sharded == nil,
                              seed: config.seed, origin: origin, duration: config.duration)
        let engine = engine
        _ = loop.execute { engine.begin() }
    }

    func finish() -> [HistoryOperation] { finishWithTransactions().history }

    /// Ends the clients; their history, and the cross-shard transactions they coordinated.
    func finishWithTransactions() -> (history: [HistoryOperation], transactions: TransactionLedger) {
        let engine = engine
        let ended = Self.onLoop(loop) { engine.close(); return (engine.history, engine.ledger) }
        loop.shutdown()
        return ended
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
