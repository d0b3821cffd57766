import ConsensusCore
import Storage

/// One step of a random storage workload.
enum Step {
    case apply(Op)
    case sync
    case restart
}

/// Draws steps that are mostly valid for the current state (appends at or before the end, suffix
/// replacement, truncation, hard state, snapshots old and new), a few invalid ones (appends leaving
/// a gap or below index 1), syncs and restarts.
struct RandomOperations {
    private var random: DeterministicRandom
    private var nextPayload = 0

    init(seed: UInt64) { random = DeterministicRandom(seed: seed, label: "storage-ops") }

    mutating func next(after state: State) -> Step {
        let roll = random.uniform(0...99)
        switch roll {
        case 0..<45: return .apply(.append(firstIndex: appendIndex(state), entries: entries(random.uniform(0...4))))
        case 45..<53: return .apply(.hardState(TestHardState(term: UInt64(random.uniform(0...9)), votedFor: random.chance(0.3) ? nil : random.uniform(1...5))))
        case 53..<61: return .apply(.truncate(from: random.uniform(max(0, state.firstIndex - 1)...(state.lastIndex + 2))))
        case 61..<68: return .apply(.snapshot(snapshot(state)))
        case 68..<71: return .apply(.append(firstIndex: random.chance(0.5) ? state.lastIndex + random.uniform(2...4) : 0, entries: entries(1)))
        case 71..<88: return .sync
        default: return .restart
        }
    }

    /// Mostly the end of the log; sometimes inside it (replacing a suffix) or before the snapshot.
    private mutating func appendIndex(_ state: State) -> LogIndex {
        random.chance(0.6) ? state.lastIndex + 1 : random.uniform(max(1, state.firstIndex - 2)...(state.lastIndex + 1))
    }

    private mutating func entries(_ count: Int) -> [TestEntry] {
        (0..<count).map { _ in
            nextPayload += 1
            return TestEntry(UInt64(random.uniform(1...5)), "v\(nextPayload)")
        }
    }

    /// Usually newer than the stored snapshot, sometimes older (ignored) or past the end of the log.
    private mutating func snapshot(_ state: State) -> Snapshot {
        let lastIndex = random.uniform(max(0, state.snapshotIndex - 1)...(state.lastIndex + 3))
        let data = (0..<random.uniform(0...24)).map { _ in UInt8(random.uniform(0...255)) }
        return Snapshot(lastIndex: lastIndex, lastTerm: UInt64(random.uniform(1...5)), data: data)
    }
}
