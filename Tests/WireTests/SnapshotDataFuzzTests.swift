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
            var store = KVStore()
            for _ in 0..<generator.pick(12) { _ = store.apply(generator.request()) }
            let bytes = store.snapshot()
            for length in 0..<bytes.count where (try? KVStore(snapshot: Array(bytes[..<length]))) != nil {
                failures.append("truncation to \(length) of \(bytes.count) bytes decoded")
            }
            for offset in 0..<max(bytes.count - 3, 0) {
                var patched = bytes
                for i in 0..<4 { patched[offset + i] = 0xFF }
                _ = try? KVStore(snapshot: patched)
            }
            for _ in 0..<40 where !bytes.isEmpty {
                var flipped = bytes
                flipped[random.index(below: flipped.count)] ^= 1 << UInt8(random.index(below: 8))
                _ = try? KVStore(snapshot: flipped)
            }
        }
        for _ in 0..<sweep(300) {
            _ = try? KVStore(snapshot: (0..<random.index(below: 65)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        failures.expectNone()
    }
}
