import ConsensusCore
import Testing
@testable import Checker

@Suite struct IntegerTableTests {
    /// Random keys (many sharing a word, so probes collide) give the answers of a `Dictionary`,
    /// through several growths and overwrites.
    @Test func agreesWithDictionary() {
        var random = DeterministicRandom(seed: 7)
        var table = IntegerTable()
        var reference: [[UInt64]: Int32] = [:]
        for step in 0..<20_000 {
            let a = UInt64.random(in: 0..<64, using: &random) << 32
            let b = UInt64.random(in: 0..<64, using: &random)
            let value = Int32(step)
            table.set(a, b, to: value)
            reference[[a, b]] = value
            let probeA = UInt64.random(in: 0..<64, using: &random) << 32
            let probeB = UInt64.random(in: 0..<128, using: &random)
            #expect(table.value(probeA, probeB) == reference[[probeA, probeB]])
        }
        #expect(table.count == reference.count)
        for (key, value) in reference { #expect(table.value(key[0], key[1]) == value) }
    }
}
