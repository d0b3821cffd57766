import ConsensusCore
import Testing

/// The ring buffer behind a node's inbox, its syncs under way and its held outputs: it must be a
/// queue (oldest first, whatever the wrapping and growth), a value (a copy never sees the other's
/// changes), and it must destroy each element exactly once (moved out, replaced, or left behind).
@Suite struct FIFOQueueTests {
    /// Counts live instances, so a leak or a double destruction shows.
    final class Tracked {
        nonisolated(unsafe) static var live = 0
        let value: Int
        init(_ value: Int) { self.value = value; Tracked.live += 1 }
        deinit { Tracked.live -= 1 }
    }

    /// The queue against an array as the model, under a seeded mix of appends, pops, prepends and
    /// replacements that wraps the ring and grows it several times.
    @Test(arguments: [1, 2, 3, 42])
    func behavesAsAnArrayQueue(seed: UInt64) {
        var random = DeterministicRandom(seed: seed)
        var queue = FIFOQueue<Int>()
        var model: [Int] = []
        for step in 0..<5_000 {
            switch random.uniform(0...9) {
            case 0...4:
                queue.append(step)
                model.append(step)
            case 5...7:
                #expect(queue.popFirst() == model.first)
                if !model.isEmpty { model.removeFirst() }
            case 8:
                queue.prepend(-step)
                model.insert(-step, at: 0)
            default:
                guard !model.isEmpty else { continue }
                queue.replaceLast(with: step * 7)
                model[model.count - 1] = step * 7
            }
            #expect(queue.count == model.count)
            #expect(queue.last == model.last)
        }
        #expect(queue.removeAll() == model)
        #expect(queue.isEmpty && queue.popFirst() == nil)
    }

    @Test func aCopyIsAValue() {
        var original = FIFOQueue<Int>()
        for value in 0..<6 { original.append(value) }
        _ = original.popFirst()
        var copy = original
        copy.append(99)
        _ = copy.popFirst()
        original.replaceLast(with: -5)
        #expect(original.removeAll() == [1, 2, 3, 4, -5])
        #expect(copy.removeAll() == [2, 3, 4, 5, 99])
    }

    @Test func everyElementIsDestroyedExactlyOnce() {
        Tracked.live = 0
        do {
            var queue = FIFOQueue<Tracked>()
            for value in 0..<37 { queue.append(Tracked(value)) }  // grows past several capacities
            for _ in 0..<20 { _ = queue.popFirst() }
            queue.prepend(Tracked(-1))
            queue.replaceLast(with: Tracked(100))
            var copy = queue
            copy.append(Tracked(200))  // copied on write: the original keeps its own elements
            #expect(Tracked.live == 19)
            #expect(queue.popFirst()?.value == -1)
            #expect(copy.removeAll().map(\.value) == [-1] + Array(20..<36) + [100, 200])
        }
        #expect(Tracked.live == 0)
    }
}
