import ConsensusCore
import Foundation

/// The client load of a run. Generated from the run seed alone, so every backend meets the same
/// operations (see `OperationSource`).
public struct WorkloadConfig: Hashable, Sendable {
    public enum Mode: Hashable, Sendable {
        /// Each client waits for an answer, thinks, then issues its next operation.
        case closed(think: LatencyDistribution)
        /// Operations arrive at each node as a Poisson process of `ratePerNode` per second,
        /// whether or not earlier ones were answered.
        case open(ratePerNode: Double)
    }

    public enum KeyDistribution: Hashable, Sendable {
        case uniform
        /// Zipf's law with this exponent (1.0 is classic): a few hot keys take most operations.
        case zipf(exponent: Double)
    }

    /// Relative weights of the five operations.
    public struct Mix: Hashable, Sendable {
        public var get: Double, put: Double, append: Double, cas: Double, delete: Double

        public init(get: Double = 50, put: Double = 30, append: Double = 10, cas: Double = 10, delete: Double = 0) {
            self.get = get; self.put = put; self.append = append; self.cas = cas; self.delete = delete
        }

        package var weights: [Double] { [get, put, append, cas, delete] }
    }

    /// Closed-loop clients per node (open loop: the initial pool per node).
    public var clientsPerNode: Int
    public var mode: Mode
    public var keys: Int
    public var distribution: KeyDistribution
    public var mix: Mix
    /// After this long without an answer the client gives up: the outcome is indeterminate.
    public var timeout: TimeSpan
    /// A client re-sends an unanswered request (same sequence number) after this long.
    public var retryInterval: TimeSpan
    /// Pause before retrying when the node knows no leader to redirect to.
    public var redirectBackoff: TimeSpan
    /// Open loop: how many operations one client may have in flight at once. 1 (the default)
    /// gives every concurrent operation its own client; more lets a client pipeline requests,
    /// each answered exactly once through its session (`ClientRequest.ackedThrough`).
    public var outstanding: Int

    public init(clientsPerNode: Int = 2, mode: Mode = .closed(think: .fixed(.milliseconds(10))), keys: Int = 10,
                distribution: KeyDistribution = .uniform, mix: Mix = Mix(), timeout: TimeSpan = .seconds(1),
                retryInterval: TimeSpan = .milliseconds(200), redirectBackoff: TimeSpan = .milliseconds(20), outstanding: Int = 1) {
        self.clientsPerNode = clientsPerNode
        self.mode = mode
        self.keys = keys
        self.distribution = distribution
        self.mix = mix
        self.timeout = timeout
        self.retryInterval = retryInterval
        self.redirectBackoff = redirectBackoff
        self.outstanding = outstanding
    }
}

/// A deterministic stream of operations: what to do next, independent of any backend's answers
/// except for the `expected` value of a compare-and-set (the last value this stream saw for the
/// key), which necessarily depends on what the system returned.
package struct OperationSource: Sendable {
    private var random: DeterministicRandom
    private let name: String
    private var count = 0
    private let keyCDF: [Double]
    private let mixCDF: [Double]
    private var lastSeen: [String: String] = [:]

    init(seed: UInt64, label: String, workload: WorkloadConfig) {
        random = DeterministicRandom(seed: seed, label: label)
        name = label
        keyCDF = Self.keyCDF(workload)
        mixCDF = Self.cumulative(workload.mix.weights)
    }

    /// The stream of closed-loop client `client`: every driver names it alike, so a client meets
    /// the same operations and think times in the simulator and against real processes.
    package init(client: ClientID, seed: UInt64, workload: WorkloadConfig) {
        self.init(seed: seed, label: "c\(client.rawValue)", workload: workload)
    }

    /// The open-loop arrivals at node index `node` (n1 is 0): their times and operations.
    package init(arrivalsAt node: Int, seed: UInt64, workload: WorkloadConfig) {
        self.init(seed: seed, label: "n\(node + 1)", workload: workload)
    }

    /// The next command; values are unique per write (`<stream>.<n>`).
    package mutating func next() -> Command {
        count += 1
        let key = "k\(Self.pick(keyCDF, random.nextUnit()))"
        let value = "\(name).\(count)"
        switch Self.pick(mixCDF, random.nextUnit()) {
        case 0: return .get(key: key)
        case 1: return .put(key: key, value: value)
        case 2: return .append(key: key, value: value + ";")
        case 3: return .cas(key: key, expected: lastSeen[key], value: value)
        default: return .delete(key: key)
        }
    }

    /// Remembers what the system said a key holds, for later compare-and-sets.
    package mutating func observe(_ command: Command, _ result: CommandResult) {
        switch (command, result) {
        case (.get(let key), .value(let value)): lastSeen[key] = value
        case (.put(let key, let value), .done), (.cas(let key, _, let value), .done): lastSeen[key] = value
        case (.delete(let key), .done): lastSeen[key] = nil
        case (.append(let key, _), .done): lastSeen[key] = nil  // the whole value is not known here
        case (.cas(let key, _, _), .casMismatch(let current)): lastSeen[key] = current
        default: break
        }
    }

    /// Draws a think time or inter-arrival gap from this stream.
    package mutating func draw(_ distribution: LatencyDistribution) -> TimeSpan { distribution.sample(&random) }

    /// Exponential inter-arrival time for a Poisson process of `rate` per second.
    package mutating func interArrival(rate: Double) -> TimeSpan {
        TimeSpan(microseconds: Int64((-log(1 - random.nextUnit()) / rate * 1_000_000).rounded()) + 1)
    }

    static func keyCDF(_ workload: WorkloadConfig) -> [Double] {
        let count = max(workload.keys, 1)
        switch workload.distribution {
        case .uniform: return cumulative(Array(repeating: 1, count: count))
        case .zipf(let s): return cumulative((1...count).map { 1 / pow(Double($0), s) })
        }
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        let total = weights.reduce(0, +)
        var sum = 0.0
        return weights.map { sum += $0; return sum / total }
    }

    /// First index whose cumulative weight exceeds `u` (binary search).
    static func pick(_ cdf: [Double], _ u: Double) -> Int {
        var low = 0, high = cdf.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cdf[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// Which of a client's requests are finished (answered or given up): every request numbered at or
/// below `finishedThrough` is, which the client's requests carry as `ackedThrough` so that the
/// store can forget their answers. Requests may finish out of order when a client pipelines.
package struct SessionWatermark: Sendable {
    package private(set) var finishedThrough: UInt64 = 0
    /// Requests above `finishedThrough` that finished before an earlier one.
    private var finishedAhead: Set<UInt64> = []

    package init() {}

    /// Notes that request `sequence` is finished, and moves the watermark past every request
    /// finished without a gap.
    package mutating func finish(_ sequence: UInt64) {
        guard sequence != finishedThrough + 1 || !finishedAhead.isEmpty else {
            finishedThrough = sequence  // one request at a time: no set to keep
            return
        }
        finishedAhead.insert(sequence)
        while finishedAhead.remove(finishedThrough + 1) != nil { finishedThrough += 1 }
    }
}
