import ConsensusCore

/// A timer the event loop will run, to cancel it with.
public struct TimerID: Hashable, Sendable {
    let sequence: UInt64
}

/// The event loop's timers: a binary min-heap ordered by (deadline, scheduling order), so timers
/// fire in deadline order and timers due at the same instant in the order they were scheduled.
///
/// Cancelling removes the action at once and leaves its heap entry to be skipped when it surfaces;
/// the heap is rebuilt when such entries outnumber live ones, so a node that re-arms its election
/// timer at every heartbeat keeps a heap the size of its live timers.
struct TimerQueue {
    private struct Entry {
        var deadline: Instant
        var sequence: UInt64

        func precedes(_ other: Entry) -> Bool {
            (deadline, sequence) < (other.deadline, other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextSequence: UInt64 = 0

    /// Timers scheduled and neither fired nor cancelled.
    var count: Int { actions.count }

    mutating func schedule(at deadline: Instant, _ action: @escaping () -> Void) -> TimerID {
        let entry = Entry(deadline: deadline, sequence: nextSequence)
        nextSequence += 1
        actions[entry.sequence] = action
        heap.append(entry)
        siftUp(heap.count - 1)
        return TimerID(sequence: entry.sequence)
    }

    /// Whether the timer was still pending.
    @discardableResult
    mutating func cancel(_ timer: TimerID) -> Bool {
        guard actions.removeValue(forKey: timer.sequence) != nil else { return false }
        if heap.count > 2 * actions.count + 64 { rebuild() }
        return true
    }

    /// The earliest deadline of a live timer.
    mutating func nextDeadline() -> Instant? {
        dropCancelledTop()
        return heap.first?.deadline
    }

    /// Moves every timer due at `now` out of the heap, earliest first, into `due`. The caller runs
    /// them with `take(_:)`, which skips one cancelled meanwhile. Timers that the actions schedule
    /// wait for the next call, even when already due, so a timer re-arming itself at zero delay
    /// cannot starve the loop.
    mutating func collectDue(at now: Instant, into due: inout [TimerID]) {
        while true {
            dropCancelledTop()
            guard let top = heap.first, top.deadline <= now else { return }
            due.append(TimerID(sequence: top.sequence))
            removeTop()
        }
    }

    /// The action of a collected timer, unless it was cancelled since.
    mutating func take(_ timer: TimerID) -> (() -> Void)? {
        actions.removeValue(forKey: timer.sequence)
    }

    // MARK: Heap

    private mutating func dropCancelledTop() {
        while let top = heap.first, actions[top.sequence] == nil { removeTop() }
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func rebuild() {
        heap.removeAll { actions[$0.sequence] == nil }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var smallest = parent
            let left = 2 * parent + 1, right = left + 1
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
