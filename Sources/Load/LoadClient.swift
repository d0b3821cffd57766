import ConsensusCore
import Glibc
import Runtime

/// One closed-loop client: its connection, its workload, its tally. Built on the caller's thread
/// (which connects it), then driven by exactly one thread at a time (the preload's, then the
/// run's), handed over through `ClientThreads`' join: that is the whole of its concurrency, hence
/// `@unchecked Sendable`.
final class LoadClient: @unchecked Sendable {
    let index: Int
    let address: SocketAddress
    private let connection: any KeyValueConnection
    private var workload: ClientWorkload
    private(set) var tally = ClientTally()

    /// Connects client `index` to its address of the target; throws the reason it cannot.
    init(index: Int, options: LoadOptions) throws(LoadRunFailure) {
        self.index = index
        address = options.target.address(ofClient: index)
        do {
            switch options.target.system {
            case .resp:
                connection = try RESPTargetConnection(address: address, timeout: options.timeout)
            case .etcd:
                connection = try EtcdTargetConnection(address: address, timeout: options.timeout, serializable: options.etcdSerializable)
            case .shard:
                connection = try ShardedTargetConnection(files: options.target.clusterFiles, client: index, timeout: options.timeout)
            }
        } catch {
            throw LoadRunFailure(description: "cannot reach \(options.target.system.rawValue) at \(address): \(error)")
        }
        workload = ClientWorkload(client: index, options: options)
    }

    /// Why the preload could not write a key, if it could not.
    private(set) var preloadFailure: String?

    /// Writes `keys` with their preload values, retrying each (a cluster may still be electing
    /// its leader) for up to `patience`; stops at the first key that cannot be written.
    func preload(_ keys: StrideTo<Int>, valueBytes: Int, patience: TimeSpan) {
        for index in keys {
            let operation = Operation(kind: .put, key: ClientWorkload.key(index), value: ClientWorkload.preloadValue(index, bytes: valueBytes))
            let deadline = MonotonicClock.now() + patience
            while case .failed(_, let message) = connection.perform(operation) {
                guard MonotonicClock.now() < deadline else {
                    preloadFailure = "\(operation.key) through \(address): \(message)"
                    return
                }
                usleep(50_000)
            }
        }
    }

    /// The closed loop: an operation, its answer, the next. Counts the operations that start at
    /// or after `start` and end by `end`; stops at `end` (an operation in flight then is finished
    /// and not counted).
    func run(measuringFrom start: Instant, until end: Instant) {
        while MonotonicClock.now() < end {
            let operation = workload.next()
            let retriesBefore = connection.retries
            let begin = MonotonicClock.now()
            let outcome = connection.perform(operation)
            let finish = MonotonicClock.now()
            workload.observe(operation, outcome)
            if begin >= start && finish <= end {
                tally.record(operation.kind, outcome, microseconds: (finish - begin).microseconds)
                tally.retries += connection.retries - retriesBefore
            }
        }
    }
}

/// Why a run could not be made (exit status 1): the target cannot be reached at the start, or
/// the preload could not write a key.
public struct LoadRunFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
}
