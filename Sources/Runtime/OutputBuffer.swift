/// A connection's queued output: bytes accepted but not yet taken by the kernel, at most `limit`
/// of them. A write that would pass the limit is refused whole, so the stream never carries part
/// of a message and a peer that stops reading costs at most `limit` bytes (plus the array's growth
/// slack), however long it stalls.
struct OutputBuffer {
    let limit: Int
    private var storage: [UInt8] = []
    /// Bytes before `head` have been sent.
    private var head = 0
    /// An empty buffer that grew past this gives its memory back.
    private static let retainedCapacity = 1 << 20

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    /// Queues all of `bytes`, or nothing (false) when they do not fit under the limit.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard count + bytes.count <= limit else { return false }
        // Reuse the sent prefix's room rather than grow the array past it.
        if head > 0 && storage.count + bytes.count > storage.capacity {
            storage.removeSubrange(0..<head)
            head = 0
        }
        storage.append(contentsOf: bytes)
        return true
    }

    /// The unsent bytes, valid during `body`.
    func withUnsent<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[head...])) }
    }

    /// The kernel took the next `sent` bytes.
    mutating func consume(_ sent: Int) {
        head += sent
        guard head == storage.count else { return }
        if storage.capacity > Self.retainedCapacity {
            storage = []
        } else {
            storage.removeAll(keepingCapacity: true)
        }
        head = 0
    }

    mutating func removeAll() {
        storage = []
        head = 0
    }
}
