import ConsensusCore
import Testing

/// The read checks the ZAB tests rely on, on hand-made histories.
@Suite struct CheckerTests {
    static func op(_ id: Int, client: Int, node: Int = 1, _ command: Command, _ invoke: Int64, _ complete: Int64, _ outcome: Outcome) -> HistoryOperation {
        HistoryOperation(id: id, client: ClientID(client), node: NodeID(node), command: command, invoke: .zero + .milliseconds(invoke),
                         complete: .zero + .milliseconds(complete), outcome: outcome)
    }

    /// W1 = put old (0–1 ms), W2 = put new (2–3 ms), then reads at 4 ms.
    static func history(read value: String, client: Int) -> [HistoryOperation] {
        [op(1, client: 1, .put(key: "k", value: "old"), 0, 1, .ok(.done)),
         op(2, client: 1, .put(key: "k", value: "new"), 2, 3, .ok(.done)),
         op(3, client: client, node: 2, .get(key: "k"), 4, 5, .ok(.value(value)))]
    }

    @Test func staleReadIsAReadOfAValueReplacedBeforeItBegan() {
        #expect(StaleReads.find(in: Self.history(read: "old", client: 2)).map(\.read.id) == [3])
        #expect(StaleReads.find(in: Self.history(read: "new", client: 2)).isEmpty)
        var concurrent = Self.history(read: "old", client: 2)
        concurrent[2].invoke = .zero + .microseconds(2_500)  // the read overlaps W2: either value is fine
        #expect(StaleReads.find(in: concurrent).isEmpty)
    }

    @Test func goingBackIsStaleForTheClientThatSawTheNewerValue() {
        #expect(StaleReads.goingBack(in: Self.history(read: "old", client: 1)).map(\.id) == [3], "its own write of new came first")
        #expect(StaleReads.goingBack(in: Self.history(read: "old", client: 2)).isEmpty, "another client may lag (sequential consistency)")
        #expect(StaleReads.goingBack(in: Self.history(read: "new", client: 1)).isEmpty)
    }
}
