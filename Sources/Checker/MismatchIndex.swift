/// A key's cas mismatches by expected value, to ask which of them a timed-out write could serve.
struct MismatchIndex {
    private var byValue: [RegisterSpace.ValueID: [(deadline: Int64, invoke: Int64)]] = [:]
    /// Mismatches expecting a value, sorted by its bytes, for prefix queries.
    private var byBytes: [(bytes: [UInt8], deadline: Int64, invoke: Int64)] = []
    private var all: [(deadline: Int64, invoke: Int64)] = []

    init(_ history: KeyHistory) {
        for operation in history.mandatory {
            guard case .differs(let expected) = operation.action else { continue }
            byValue[expected, default: []].append((operation.deadline, operation.invoke))
            all.append((operation.deadline, operation.invoke))
            if expected != RegisterSpace.noValue {
                byBytes.append((Array(history.space.values[Int(expected)].utf8), operation.deadline, operation.invoke))
            }
        }
        byBytes.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }

    /// Every mismatch.
    var everyMismatch: ObserverTimes { ObserverTimes(all) }

    /// The mismatches expecting exactly `value`.
    func expecting(_ value: RegisterSpace.ValueID) -> ObserverTimes { ObserverTimes(byValue[value] ?? []) }

    /// The mismatches expecting a value that begins with `prefix`.
    func expecting(prefix: String) -> ObserverTimes {
        let wanted = Array(prefix.utf8)
        var low = byBytes.partitionPoint { !$0.bytes.lexicographicallyPrecedes(wanted) }
        var found: [(deadline: Int64, invoke: Int64)] = []
        while low < byBytes.count, byBytes[low].bytes.starts(with: wanted) {
            found.append((byBytes[low].deadline, byBytes[low].invoke))
            low += 1
        }
        return ObserverTimes(found)
    }
}
