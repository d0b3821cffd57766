/// SplitMix64 (Steele, Lea & Flood 2014): turns one seed into well-spread seeds for sub-generators.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= Self.golden
        return Self.mix(state)
    }

    /// The increment of the generator's state: 2^64 divided by the golden ratio.
    @inlinable package static var golden: UInt64 { 0x9E37_79B9_7F4A_7C15 }

    /// SplitMix64's finaliser: a bijection of 64-bit words in which every input bit affects every
    /// output bit (also the checker's hash-table mixer).
    @inlinable @inline(__always)
    package static func mix(_ word: UInt64) -> UInt64 {
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2018): the lab's deterministic generator.
///
/// Every concern (network, workload, each node's timers, fault targets) gets its own generator
/// derived from the run seed and a label, so adding a draw in one place never shifts another.
/// Helpers below implement their own bounded and floating-point draws rather than the standard
/// library's, whose algorithms are not promised to stay fixed across toolchains.
public struct DeterministicRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next(); s1 = mix.next(); s2 = mix.next(); s3 = mix.next()
    }

    /// A generator for one concern of a run: `DeterministicRandom(seed: 7, label: "network")`.
    public init(seed: UInt64, label: String) { self.init(seed: Self.derive(seed, label)) }

    /// Mixes a label into a seed (FNV-1a over the label, then SplitMix64).
    public static func derive(_ seed: UInt64, _ label: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var mix = SplitMix64(seed: seed ^ hash)
        return mix.next()
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1), 53 bits of precision.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in `range` (Lemire's multiply-shift with rejection, so unbiased).
    public mutating func uniform(_ range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        if span == 0 { return Int64(bitPattern: next()) }
        var product = next().multipliedFullWidth(by: span)
        if product.low < span {
            let threshold = (0 &- span) % span
            while product.low < threshold { product = next().multipliedFullWidth(by: span) }
        }
        return range.lowerBound &+ Int64(bitPattern: product.high)
    }

    public mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        Int(uniform(Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    /// Index into a collection of `count` elements.
    public mutating func index(below count: Int) -> Int { uniform(0...(count - 1)) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { p > 0 && (p >= 1 || nextUnit() < p) }

    /// Fisher–Yates shuffle with this generator.
    public mutating func shuffle<T>(_ values: inout [T]) {
        for i in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(i, index(below: i + 1)) }
    }

    /// A duration drawn uniformly from `range`, inclusive.
    public mutating func duration(in range: ClosedRange<TimeSpan>) -> TimeSpan {
        TimeSpan(microseconds: uniform(range.lowerBound.microseconds...range.upperBound.microseconds))
    }
}
