import ConsensusCore
import Storage
import Testing

@Suite struct MemoryStorageTests {
    @Test func crashLosesUnsyncedWritesAndKeepsSyncedOnes() throws {
        var storage = MemoryStorage<TestEntry, TestHardState>()
        try storage.apply(.hardState(TestHardState(term: 1, votedFor: 2)))
        try storage.apply(.append(firstIndex: 1, entries: [TestEntry(1, "a"), TestEntry(1, "b")]))
        try storage.sync()
        try storage.apply(.append(firstIndex: 3, entries: [TestEntry(1, "c")]))
        try storage.apply(.hardState(TestHardState(term: 2, votedFor: nil)))
        try storage.apply(.snapshot(Snapshot(lastIndex: 2, lastTerm: 1, data: [7])))
        #expect(storage.unsyncedCount == 3)
        #expect(try storage.recover().entries.map(\.payload) == ["c"])

        storage.crash()
        let recovered = Observed(try storage.recover())
        #expect(recovered.hardState == TestHardState(term: 1, votedFor: 2))
        #expect(recovered.snapshot == nil)
        #expect(recovered.entries.map(\.payload) == ["a", "b"])
        #expect(storage.unsyncedCount == 0)

        // The storage carries on from the durable state.
        try storage.apply(.append(firstIndex: 3, entries: [TestEntry(2, "c2")]))
        try storage.sync()
        storage.crash()
        #expect(try storage.recover().entries.map(\.payload) == ["a", "b", "c2"])
    }
}
