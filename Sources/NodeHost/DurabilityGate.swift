import ConsensusCore

/// The rule every backend's safety rests on: *a node's outputs leave only after the writes they
/// depend on are durable, and a crash loses both together.*
///
/// The gate counts the node's writes (applied, and synced) and holds outputs in order. An output
/// computed while a write is not yet durable — or while older outputs still wait, so a node's
/// gated outputs never overtake each other — is held. `seal()` marks what the writes and outputs
/// so far amount to; when the disk reports that a sync covering them completed, `synced(_:)` makes
/// the writes count as durable and `release(_:_:)` hands over exactly the outputs held up to the
/// mark. A crash drops the rest: nothing that depended on a lost write ever escapes.
///
/// The gate is generic over what it holds, so each driver holds its own form of an output (the
/// simulator an event with its delivery time, a runtime a frame for a peer).
struct DurabilityGate<Output> {
    /// Writes of this incarnation applied to storage, and made durable.
    private(set) var writesApplied = 0
    private(set) var writesSynced = 0
    /// Outputs waiting, oldest first; `heldTotal` counts every output ever held, `releasedTotal`
    /// those that left.
    private var held = FIFOQueue<Output>()
    private var heldTotal = 0
    private var releasedTotal = 0

    init() {}

    /// Outputs must wait: a write is not yet durable, or older outputs are still waiting.
    var mustHold: Bool { writesApplied > writesSynced || heldTotal > releasedTotal }

    /// `count` more writes were applied to storage.
    mutating func wrote(_ count: Int) { writesApplied += count }

    /// Holds `output` until a release covers it.
    mutating func hold(_ output: consuming Output) {
        held.append(output)
        heldTotal += 1
    }

    /// What a sync started now must cover: every write and every held output so far. `nil` when
    /// nothing waits.
    func seal() -> ReleaseMark? {
        mustHold ? ReleaseMark(writes: writesApplied, outputs: heldTotal) : nil
    }

    /// A sync covering `mark` completed: the writes it covers count as durable. Returns how many
    /// more that is (the storage must sync that many more).
    mutating func synced(_ mark: ReleaseMark) -> Int {
        let newlySynced = max(0, mark.writes - writesSynced)
        writesSynced = max(writesSynced, mark.writes)
        return newlySynced
    }

    /// Hands `leave` the outputs held up to `mark`, oldest first, each moved out of the gate.
    /// `leave` must not use the gate.
    mutating func release(_ mark: ReleaseMark, _ leave: (consuming Output) -> Void) {
        while releasedTotal < mark.outputs, let output = held.popFirst() {
            releasedTotal += 1
            leave(output)
        }
    }

    /// The node crashed: its unsynced writes are gone and so are the outputs that waited for them.
    /// Returns the dropped outputs.
    mutating func crash() -> [Output] {
        let dropped = held.removeAll()
        self = DurabilityGate()
        return dropped
    }
}

/// A point in a node's writes and held outputs that one sync covers.
public struct ReleaseMark: Hashable, Sendable {
    /// Writes of the incarnation up to here become durable.
    public var writes: Int
    /// Held outputs up to here (counted over the incarnation) may leave.
    public var outputs: Int
}
