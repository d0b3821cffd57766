/// Quantiles of a set of latencies in microseconds, by the nearest-rank method: the p-quantile is
/// the smallest latency at or above which lie no more than (1 − p) of the operations, so every
/// figure is a latency some operation had.
public struct LatencySummary: Hashable, Sendable {
    public var count: Int
    public var p50: UInt32
    public var p90: UInt32
    public var p99: UInt32
    public var p999: UInt32
    public var max: UInt32

    /// `nil` for no latencies.
    init?(sorted latencies: [UInt32]) {
        guard let last = latencies.last else { return nil }
        func quantile(_ q: Double) -> UInt32 {
            let rank = Int((q * Double(latencies.count)).rounded(.up))
            return latencies[Swift.max(rank, 1) - 1]
        }
        count = latencies.count
        p50 = quantile(0.5)
        p90 = quantile(0.9)
        p99 = quantile(0.99)
        p999 = quantile(0.999)
        max = last
    }
}
