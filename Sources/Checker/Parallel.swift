import Dispatch
import Foundation

/// Independent jobs on plain threads (not `concurrentPerform`, whose width libdispatch may
/// narrow), results in input order, so output never depends on the number of workers.
///
/// Lives in `Checker`, which checks keys in parallel, so that `Lab` shares it for runs.
package enum Parallel {
    package static func map<Input: Sendable, Output: Sendable>(_ inputs: [Input], jobs: Int, progress: (@Sendable (Int, Int) -> Void)? = nil,
                                                       _ body: @escaping @Sendable (Input) -> Output) -> [Output] {
        let results = ResultSlots<Output>(count: inputs.count)
        let next = Counter()
        let workers = max(1, min(jobs, inputs.count))
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            let thread = Thread {
                while let index = next.take(below: inputs.count) {
                    let done = results.store(body(inputs[index]), at: index)
                    progress?(done, inputs.count)
                }
                finished.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<workers { finished.wait() }
        return results.values
    }
}

/// Thread-safe slots for results that arrive in any order and are read in index order.
final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private var done = 0
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ value: Value, at index: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
        done += 1
        return done
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
