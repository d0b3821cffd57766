import ConsensusCore

/// The simulator's agenda: a binary min-heap ordered by (time, sequence number).
///
/// The sequence number breaks ties in scheduling order, so two events at the same virtual time run
/// in the order they were scheduled — the property that makes a run a pure function of its seed.
/// The heap orders small fixed-size keys; payloads (which hold messages and strings) sit in a slot
/// array and are moved exactly twice, in and out, so sifting never copies or retains them.
struct EventQueue<Payload> {
    private struct Key {
        var time: Int64
        var sequence: UInt64
        var slot: Int

        @inline(__always) func precedes(_ other: Key) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    private var heap: [Key] = []
    private var payloads: [Payload?] = []
    private var freeSlots: [Int] = []
    private var nextSequence: UInt64 = 0

    init() {
        heap.reserveCapacity(1024)
        payloads.reserveCapacity(1024)
    }

    /// Time of the earliest event, if any.
    var nextTime: Instant? { heap.first.map { Instant(microseconds: $0.time) } }

    /// Takes `payload` over (`consuming`): an event built for the call moves into its slot
    /// without a copy of the message it carries.
    mutating func schedule(_ payload: consuming Payload, at time: Instant) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            payloads[slot] = payload
        } else {
            slot = payloads.count
            payloads.append(payload)
        }
        heap.append(Key(time: time.microseconds, sequence: nextSequence, slot: slot))
        nextSequence &+= 1
        siftUp(heap.count - 1)
    }

    mutating func pop() -> (time: Instant, payload: Payload)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        let payload = payloads[first.slot].take()!
        freeSlots.append(first.slot)
        return (Instant(microseconds: first.time), payload)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let key = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = key
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = heap.count
        let key = heap[parent]
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count, heap[child + 1].precedes(heap[child]) { child += 1 }
            guard heap[child].precedes(key) else { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = key
    }
}
