import ConsensusCore

/// Reads that are certainly stale: a get returned the value of write W′ although another write W
/// to the key began after W′ finished and finished before the get began. Values are unique per
/// write, so W′ is known; the check is sound (never flags a linearizable history) but not
/// complete — the linearizability checker is the full judge.
enum StaleReads {
    static func find(in history: [HistoryOperation]) -> [HistoryOperation] {
        var writesByKey: [String: [HistoryOperation]] = [:]
        var writerOfValue: [String: HistoryOperation] = [:]
        for operation in history where !operation.command.isRead && operation.outcome == .ok(.done) {
            writesByKey[operation.command.key, default: []].append(operation)
            switch operation.command {
            case .put(_, let value), .cas(_, _, let value): writerOfValue[value] = operation
            default: break
            }
        }
        // Per key, acknowledged writes by completion time, with the latest invocation among
        // those completed so far: "some write began after S finished and finished before the
        // read began" is then one binary search.
        var completions: [String: [Instant]] = [:], latestInvoke: [String: [Instant]] = [:]
        for (key, writes) in writesByKey {
            let sorted = writes.sorted { $0.complete! < $1.complete! }
            completions[key] = sorted.map { $0.complete! }
            var running = Instant(microseconds: -1)
            latestInvoke[key] = sorted.map { running = max(running, $0.invoke); return running }
        }
        return history.filter { read in
            guard case .get(let key) = read.command, case .ok(.value(let value?)) = read.outcome,
                  let source = writerOfValue[value], let sourceDone = source.complete,
                  let done = completions[key], let invokes = latestInvoke[key] else { return false }
            var low = 0, high = done.count  // first write completing at or after the read's invocation
            while low < high {
                let mid = (low + high) / 2
                if done[mid] < read.invoke { low = mid + 1 } else { high = mid }
            }
            return low > 0 && invokes[low - 1] > sourceDone
        }
    }
}
