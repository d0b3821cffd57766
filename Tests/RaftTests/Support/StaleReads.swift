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
        return history.filter { read in
            guard case .get(let key) = read.command, case .ok(.value(let value?)) = read.outcome,
                  let source = writerOfValue[value], let sourceDone = source.complete else { return false }
            return writesByKey[key, default: []].contains { later in
                later.id != source.id && later.invoke > sourceDone && later.complete! < read.invoke
            }
        }
    }
}
