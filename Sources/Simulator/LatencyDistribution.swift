import ConsensusCore
import Foundation

/// How long a message takes on a link (or how long a client thinks between operations).
public enum LatencyDistribution: Hashable, Sendable, CustomStringConvertible {
    /// Always the same.
    case fixed(TimeSpan)
    /// Uniform between the bounds, inclusive.
    case uniform(ClosedRange<TimeSpan>)
    /// `minimum` plus an exponentially distributed delay with the given mean (memoryless queueing).
    case exponential(minimum: TimeSpan, mean: TimeSpan)
    /// Log-normal with the given median and 99th percentile: most messages are fast, a few are very
    /// slow — the long tail of real networks that breaks timeout tuning.
    case longTail(median: TimeSpan, p99: TimeSpan)

    package func sample(_ random: inout DeterministicRandom) -> TimeSpan {
        switch self {
        case .fixed(let value):
            return value
        case .uniform(let range):
            return random.duration(in: range)
        case .exponential(let minimum, let mean):
            let u = random.nextUnit()
            return minimum + TimeSpan(microseconds: Int64((-log(1 - u) * Double(mean.microseconds)).rounded()))
        case .longTail(let median, let p99):
            // Box–Muller for a standard normal; sigma chosen so that the 99th percentile is p99 (z = 2.326).
            let u1 = max(random.nextUnit(), .leastNonzeroMagnitude), u2 = random.nextUnit()
            let z = sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
            let sigma = log(max(Double(p99.microseconds), 1) / max(Double(median.microseconds), 1)) / 2.326
            let value = Double(median.microseconds) * exp(sigma * z)
            return TimeSpan(microseconds: Int64(min(value, 3.6e9).rounded()))
        }
    }

    /// The distribution's mean, for reports.
    package var mean: TimeSpan {
        switch self {
        case .fixed(let value): value
        case .uniform(let range): TimeSpan(microseconds: (range.lowerBound.microseconds + range.upperBound.microseconds) / 2)
        case .exponential(let minimum, let mean): minimum + mean
        case .longTail(let median, let p99):
            median.scaled(by: exp(pow(log(max(p99.milliseconds, 0.001) / max(median.milliseconds, 0.001)) / 2.326, 2) / 2))
        }
    }

    public var description: String {
        switch self {
        case .fixed(let value): "fixed \(value)"
        case .uniform(let range): "uniform \(range.lowerBound)–\(range.upperBound)"
        case .exponential(let minimum, let mean): "\(minimum) + exponential(mean \(mean))"
        case .longTail(let median, let p99): "long-tail (median \(median), p99 \(p99))"
        }
    }
}
