import ConsensusCore
import Foundation

/// What a run measured: operations that succeeded and failed in the measured window, and the
/// latencies of the ones that succeeded.
public struct LoadResult: Sendable {
    public struct ErrorCount: Hashable, Sendable {
        /// `TIMEOUT`, `CLUSTERDOWN`, `HTTP 503`, `connection`, `protocol`, …
        public var kind: String
        public var count: Int
        /// The first message of this kind.
        public var example: String
    }

    public var options: LoadOptions
    /// Successful operations, all kinds together.
    public var ok: Int
    public var errors: [ErrorCount]
    /// `get`s of a key that held nothing; successes, counted apart.
    public var getMisses: Int
    /// `cas`es whose expected value was not the key's; successes, counted apart.
    public var casMismatches: Int
    /// Round trips repeated because a guarded write lost a race (etcd's append).
    public var retries: Int
    /// Over every successful operation; `nil` when none succeeded.
    public var latency: LatencySummary?
    /// Per operation kind of the mix, in its order.
    public var latencyByKind: [(kind: OperationKind, summary: LatencySummary?)]

    init(options: LoadOptions, tally: ClientTally) {
        self.options = options
        var all: [UInt32] = []
        latencyByKind = options.mix.shares.map { share in
            let sorted = tally.latencies[ClientTally.slot(share.kind)].sorted()
            all.append(contentsOf: sorted)
            return (share.kind, LatencySummary(sorted: sorted))
        }
        ok = all.count
        latency = LatencySummary(sorted: all.sorted())
        errors = tally.errors.map { ErrorCount(kind: $0.key, count: $0.value.count, example: $0.value.example) }
            .sorted { ($0.count, $1.kind) > ($1.count, $0.kind) }
        getMisses = tally.getMisses
        casMismatches = tally.casMismatches
        retries = tally.retries
    }

    public var errorCount: Int { errors.reduce(0) { $0 + $1.count } }

    /// Successful operations per second of the measured window.
    public var throughput: Double { Double(ok) / options.duration.seconds }

    /// The report `conlab load` prints.
    public var summary: String {
        let o = options
        var lines = ["\(o.target): \(o.clients) clients, mix \(o.mix), \(o.keys) keys, \(o.valueBytes)-byte values, seed \(o.seed)"
                     + (o.etcdSerializable ? ", serializable reads" : "")]
        lines.append("  \(o.duration) measured after \(o.warmup) warmup: \(ok) ok, \(errorCount) errors, \(String(format: "%.1f", throughput)) ops/s")
        let columns = ["p50", "p90", "p99", "p99.9", "max"]
        lines.append("  latency µs" + columns.map { $0.leftPadded(to: 8) }.joined())
        func row(_ label: String, _ summary: LatencySummary?) -> String {
            let cells = summary.map { [$0.p50, $0.p90, $0.p99, $0.p999, $0.max].map(String.init) } ?? Array(repeating: "-", count: 5)
            return "  " + label.padding(toLength: 10, withPad: " ", startingAt: 0) + cells.map { $0.leftPadded(to: 8) }.joined()
        }
        lines.append(row("all", latency))
        if latencyByKind.count > 1 { lines += latencyByKind.map { row($0.kind.rawValue, $0.summary) } }
        var notes: [String] = []
        if o.mix.contains(.get) { notes.append("get misses \(getMisses)") }
        if o.mix.contains(.cas) { notes.append("cas not applied \(casMismatches)") }
        if o.mix.contains(.append) && o.target.system == .etcd { notes.append("append retries \(retries)") }
        if !notes.isEmpty { lines.append("  " + notes.joined(separator: ", ")) }
        for error in errors { lines.append("  error \(error.kind): \(error.count) (e.g. \(error.example.prefix(160)))") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
