import ConsensusCore
import KVStore
import Testing

/// The state machine image inside InstallSnapshot, SNAP and FULLRESYNC arrives from the network
/// too: `KVStore(snapshot:)` must refuse damaged bytes with an error, never trap.
@Suite struct SnapshotDataFuzzTests {
    @Test func damagedStateMachineImagesAreErrors() {
        var generator = WireGenerator(seed: 23)
        var random = DeterministicRandom(seed: 23)
        var failures = Failures()
        for _ in 0..<sweep(20) {
            var options = SessionOptions()
            options.maxResults = 1 + generator.pick(4)
            var store = KVStore(sessions: options)
            for _ in 0..<generator.pick(12) { _ = store.apply(generator.request(), at: generator.instant()) }
            let bytes = store.snapshot()
            if (try? KVStore(snapshot: bytes, sessions: options)) != store { failures.append("\(bytes.count) bytes did not round-trip") }
            for length in 0..<bytes.count where (try? KVStore(snapshot: Array(bytes[..<length]), sessions: options)) != nil {
                failures.append("truncation to \(length) of \(bytes.count) bytes decoded")
            }
            for offset in 0..<max(bytes.count - 3, 0) {
                var patched = bytes
                for i in 0..<4 { patched[offset + i] = 0xFF }
                _ = try? KVStore(snapshot: patched, sessions: options)
            }
            for _ in 0..<40 where !bytes.isEmpty {
                var flipped = bytes
                flipped[random.index(below: flipped.count)] ^= 1 << UInt8(random.index(below: 8))
                _ = try? KVStore(snapshot: flipped, sessions: options)
            }
        }
        for _ in 0..<sweep(300) {
            _ = try? KVStore(snapshot: (0..<random.index(below: 65)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, sessions: SessionOptions())
        }
        failures.expectNone()
    }
}
