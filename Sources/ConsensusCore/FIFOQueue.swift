/// A first-in, first-out queue whose elements are moved in and out, never copied: a ring buffer
/// with value semantics (copy on write, as `Array`).
///
/// The drivers' queues (a node's inbox, its syncs under way, the outputs its durability gate
/// holds) take one element at a time from the front and usually run empty between bursts. An
/// array would either shift every element on `removeFirst()` or, with a moving head over optional
/// slots, pay for the optional's tag on every access (a runtime call for the simulator's
/// multi-payload event enums); the ring does neither, and an empty queue allocates nothing.
public struct FIFOQueue<Element> {
    @usableFromInline var buffer: Ring?

    @inlinable public init() {}

    @inlinable public var count: Int { buffer?.header.count ?? 0 }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public mutating func append(_ element: consuming Element) {
        let ring = writableRing(forAdding: 1)
        (ring.elements + ring.slot(ring.header.count)).initialize(to: element)
        ring.header.count += 1
    }

    /// Puts `element` back in front, to leave next.
    @inlinable public mutating func prepend(_ element: consuming Element) {
        let ring = writableRing(forAdding: 1)
        ring.header.head = ring.slot(ring.header.capacity - 1)
        (ring.elements + ring.header.head).initialize(to: element)
        ring.header.count += 1
    }

    /// Moves the oldest element out.
    @inlinable public mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let ring = writableRing(forAdding: 0)
        let element = (ring.elements + ring.header.head).move()
        ring.header.head = ring.slot(1)
        ring.header.count -= 1
        return element
    }

    /// The newest element.
    @inlinable public var last: Element? {
        guard let buffer, buffer.header.count > 0 else { return nil }
        return buffer.elements[buffer.slot(buffer.header.count - 1)]
    }

    /// Replaces the newest element.
    @inlinable public mutating func replaceLast(with element: consuming Element) {
        precondition(!isEmpty, "the queue is empty")
        let ring = writableRing(forAdding: 0)
        ring.elements[ring.slot(ring.header.count - 1)] = element
    }

    /// Moves every element out, oldest first, and empties the queue.
    @inlinable public mutating func removeAll() -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        while let element = popFirst() { elements.append(element) }
        return elements
    }

    /// The ring, unshared and with room for `adding` more elements.
    @inlinable mutating func writableRing(forAdding adding: Int) -> Ring {
        if isKnownUniquelyReferenced(&buffer), buffer.unsafelyUnwrapped.header.capacity >= count + adding { return buffer.unsafelyUnwrapped }
        return reallocate(forAdding: adding)
    }

    /// A new ring with room for `adding` more elements, holding the elements: moved from the old
    /// ring if it was not shared, copied if it was.
    @usableFromInline @inline(never) mutating func reallocate(forAdding adding: Int) -> Ring {
        let needed = count + adding
        let unique = isKnownUniquelyReferenced(&buffer)
        let ring = Ring.make(capacity: Swift.max(needed, (buffer?.header.capacity ?? 0) * 2, 4))
        if let old = buffer {
            for offset in 0..<old.header.count {
                let from = old.elements + old.slot(offset)
                if unique { (ring.elements + offset).initialize(to: from.move()) } else { (ring.elements + offset).initialize(to: from.pointee) }
            }
            ring.header.count = old.header.count
            if unique { old.header.count = 0 }  // moved out: nothing left for its deinit
        }
        buffer = ring
        return ring
    }

    /// The storage: `count` elements from slot `head` on, wrapping at `capacity` (a power of two).
    @usableFromInline final class Ring: ManagedBuffer<RingHeader, Element> {
        @inlinable static func make(capacity minimum: Int) -> Ring {
            var capacity = 1
            while capacity < minimum { capacity <<= 1 }
            let buffer = create(minimumCapacity: capacity) { _ in RingHeader(head: 0, count: 0, capacity: capacity) }
            return unsafeDowncast(buffer, to: Ring.self)
        }

        /// The element storage; valid while the ring lives (a managed buffer's elements never move).
        @inlinable var elements: UnsafeMutablePointer<Element> { withUnsafeMutablePointerToElements { $0 } }

        /// The slot of the element `offset` places after the oldest.
        @inlinable func slot(_ offset: Int) -> Int { (header.head + offset) & (header.capacity - 1) }

        deinit {
            for offset in 0..<header.count { (elements + slot(offset)).deinitialize(count: 1) }
        }
    }
}

@usableFromInline struct RingHeader {
    @usableFromInline var head: Int
    @usableFromInline var count: Int
    @usableFromInline var capacity: Int

    @inlinable init(head: Int, count: Int, capacity: Int) {
        self.head = head
        self.count = count
        self.capacity = capacity
    }
}
