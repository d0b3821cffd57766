/// What one client counted during the measured window; the run adds the clients' tallies up.
struct ClientTally {
    /// Latencies of the operations that succeeded, in microseconds, by `OperationKind` (in
    /// `allCases` order): every one is kept, so quantiles are exact.
    var latencies: [[UInt32]] = Array(repeating: [], count: OperationKind.allCases.count)
    var getMisses = 0
    var casMismatches = 0
    var retries = 0
    /// Failed operations by kind, with the first message of each kind.
    var errors: [String: (count: Int, example: String)] = [:]

    mutating func record(_ kind: OperationKind, _ outcome: OperationOutcome, microseconds: Int64) {
        switch outcome {
        case .ok(let result):
            latencies[Self.slot(kind)].append(UInt32(clamping: microseconds))
            if case .value(nil) = result { getMisses += 1 }
            if result == .casMismatch { casMismatches += 1 }
        case .failed(let kind, let message):
            errors[kind, default: (0, message)].count += 1
        }
    }

    mutating func add(_ other: ClientTally) {
        for slot in latencies.indices { latencies[slot].append(contentsOf: other.latencies[slot]) }
        getMisses += other.getMisses
        casMismatches += other.casMismatches
        retries += other.retries
        for (kind, tally) in other.errors {
            errors[kind, default: (0, tally.example)].count += tally.count
        }
    }

    static func slot(_ kind: OperationKind) -> Int { OperationKind.allCases.firstIndex(of: kind)! }
}
