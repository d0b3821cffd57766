import ConsensusCore
import RESP
import Testing

/// Random bytes from a fixed seed, so a failing case can be replayed.
struct SeededBytes {
    var random: DeterministicRandom

    init(seed: UInt64) { random = DeterministicRandom(seed: seed) }

    mutating func below(_ count: Int) -> Int { random.index(below: count) }

    mutating func bytes(count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
}

@Suite struct FuzzTests {
    static let limits = RESPLimits(maximumBulkLength: 4096, maximumArguments: 64, maximumInlineLength: 1024,
                                   maximumCommandBytes: 16_384)

    /// Valid pipelines, then the same pipelines truncated, mutated and spliced, fed in random
    /// chunks: the parser never traps, yields only commands within its limits, and holds no more
    /// than one command's worth of bytes after each chunk. Valid input must parse back exactly.
    @Test func randomTruncatedAndMutatedInputNeverTraps() {
        var random = SeededBytes(seed: 0x5EED)
        var errors = 0
        for round in 0..<3000 {
            let commands = (0..<random.below(4) + 1).map { _ in randomCommand(&random) }
            var input = commands.flatMap { RESPValue.command($0).encoded(version: .resp2) }
            let mutated = round % 4 != 0
            if mutated { mutate(&input, &random) }
            var parser = RESPParser(limits: Self.limits)
            var parsed: [[[UInt8]]] = []
            var offset = 0
            do throws(RESPProtocolError) {
                while offset < input.count {
                    let end = min(input.count, offset + random.below(64) + 1)
                    parsed += try parser.parse(input[offset..<end])
                    offset = end
                    // At most one incomplete element (a bulk string and its CRLF, or an inline
                    // line) and the rest of the chunk that completed it.
                    #expect(parser.bufferedByteCount <= max(Self.limits.maximumBulkLength + 2, Self.limits.maximumInlineLength) + 64)
                }
            } catch {
                errors += 1
                #expect(error.description.hasPrefix("Protocol error: "))
            }
            for command in parsed {
                #expect(!command.isEmpty && command.count <= Self.limits.maximumArguments)
                #expect(command.allSatisfy { $0.count <= max(Self.limits.maximumBulkLength, Self.limits.maximumInlineLength) })
            }
            if !mutated { #expect(parsed == commands, "round \(round)") }
        }
        #expect(errors > 500, "the mutations reach the error paths (\(errors) errors)")
    }

    private func randomCommand(_ random: inout SeededBytes) -> [[UInt8]] {
        (0..<random.below(5) + 1).map { _ in
            random.below(10) == 0 ? random.bytes(count: random.below(300)) : Array("k\(random.below(1000))".utf8)
        }
    }

    /// One of: cut the end off, flip bytes, insert protocol-looking bytes, or swap in random bytes.
    private func mutate(_ input: inout [UInt8], _ random: inout SeededBytes) {
        switch random.below(5) {
        case 0:
            input.removeLast(random.below(input.count))
        case 1:
            for _ in 0..<random.below(4) + 1 { input[random.below(input.count)] = UInt8(truncatingIfNeeded: random.below(256)) }
        case 2:
            let tokens = ["*", "$", "-1", "\r\n", "\r", "\n", "*99999\r\n", "$5000\r\n", "\"", "'", "0", "-", "*-7\r\n"]
            for _ in 0..<random.below(3) + 1 {
                input.insert(contentsOf: Array(tokens[random.below(tokens.count)].utf8), at: random.below(input.count + 1))
            }
        case 3:
            input = random.bytes(count: random.below(2048))
        default:
            let splice = random.below(input.count)
            input.replaceSubrange(splice..<input.count, with: Array("\(random.below(100))\r\n".utf8))
        }
    }
}
