import ConsensusCore
import Storage
import Testing

/// The `NodeStorage` contract, run against every implementation: each operation means what
/// `StoredState.apply` says, invalid operations change nothing, and a restart after a clean shutdown
/// finds exactly the state that was there.
@Suite struct NodeStorageContractTests {
    static let a = TestEntry(1, "a"), b = TestEntry(1, "b"), c = TestEntry(1, "c"), d = TestEntry(2, "d")

    /// Applies `op` to `storage` and `reference` and checks that both agree afterwards.
    private func apply(_ op: Op, to storage: StorageUnderTest, _ reference: inout State) throws {
        try reference.apply(op)
        try storage.apply(op)
        #expect(try storage.recover() == Observed(reference), "after \(op)")
    }

    @Test(arguments: Implementation.allCases)
    func appendReplaceAndTruncateMeanWhatStoredStateSays(_ implementation: Implementation) throws {
        let storage = try implementation.make()
        var reference = State()
        let (a, b, c, d) = (Self.a, Self.b, Self.c, Self.d)
        let script: [Op] = [
            .append(firstIndex: 1, entries: [a, b, c]),
            .append(firstIndex: 4, entries: [d]),
            .append(firstIndex: 3, entries: [TestEntry(2, "c2"), TestEntry(2, "d2"), TestEntry(2, "e2")]),
            .truncate(from: 5),
            .truncate(from: 9),
            .append(firstIndex: 2, entries: []),
            .hardState(TestHardState(term: 2, votedFor: 1)),
            .append(firstIndex: 2, entries: [TestEntry(3, "b3")]),
        ]
        for op in script { try apply(op, to: storage, &reference) }
        #expect(try storage.recover().entries == [a, TestEntry(3, "b3")])
        try storage.restart()
        #expect(try storage.recover() == Observed(reference))
    }

    @Test(arguments: Implementation.allCases)
    func invalidOperationIsRejectedAndChangesNothing(_ implementation: Implementation) throws {
        let storage = try implementation.make()
        try storage.apply(.append(firstIndex: 1, entries: [Self.a, Self.b]))
        try storage.sync()
        let before = try storage.recover()
        for invalid: Op in [.append(firstIndex: 4, entries: [Self.c]), .append(firstIndex: 0, entries: [Self.c]),
                            .snapshot(Snapshot(lastIndex: -1, lastTerm: 1, data: []))] {
            let error = #expect(throws: StorageError.self) { try storage.apply(invalid) }
            guard case .invalidOperation = error else {
                Issue.record("expected invalidOperation for \(invalid), got \(String(describing: error))")
                continue
            }
            #expect(try storage.recover() == before)
        }
        try storage.apply(.append(firstIndex: 3, entries: [Self.c]))
        try storage.sync()
        try storage.restart()
        #expect(try storage.recover().entries == [Self.a, Self.b, Self.c])
    }

    @Test(arguments: Implementation.allCases)
    func restartAfterCleanShutdownFindsIdenticalState(_ implementation: Implementation) throws {
        let storage = try implementation.make(segmentSize: 128)
        var reference = State()
        for index in 1...40 {
            try apply(.append(firstIndex: index, entries: [TestEntry(UInt64(index / 10 + 1), "e\(index)")]), to: storage, &reference)
            if index % 7 == 0 { try apply(.hardState(TestHardState(term: UInt64(index), votedFor: index % 3)), to: storage, &reference) }
            if index == 25 { try apply(.snapshot(Snapshot(lastIndex: 20, lastTerm: 3, data: [1, 2, 3])), to: storage, &reference) }
        }
        try apply(.truncate(from: 35), to: storage, &reference)
        for _ in 0..<2 {
            try storage.restart()
            #expect(try storage.recover() == Observed(reference))
        }
    }

    @Test(arguments: Implementation.allCases)
    func snapshotCompactsAndSurvivesRestart(_ implementation: Implementation) throws {
        let storage = try implementation.make()
        var reference = State()
        try apply(.append(firstIndex: 1, entries: (1...10).map { TestEntry(1, "e\($0)") }), to: storage, &reference)
        let snapshot = Snapshot(lastIndex: 6, lastTerm: 1, data: Array("state up to 6".utf8))
        try apply(.snapshot(snapshot), to: storage, &reference)
        try apply(.append(firstIndex: 11, entries: [TestEntry(2, "e11")]), to: storage, &reference)
        try storage.restart()
        var recovered = try storage.recover()
        #expect(recovered == Observed(reference))
        #expect(recovered.snapshot == snapshot)
        #expect(recovered.firstIndex == 7)
        #expect(recovered.entries.map(\.payload) == ["e7", "e8", "e9", "e10", "e11"])

        // An older snapshot is ignored; one past the end of the log discards the whole log.
        try apply(.snapshot(Snapshot(lastIndex: 4, lastTerm: 1, data: [9])), to: storage, &reference)
        #expect(try storage.recover().snapshot == snapshot)
        let installed = Snapshot(lastIndex: 20, lastTerm: 3, data: Array("installed".utf8))
        try apply(.snapshot(installed), to: storage, &reference)
        try storage.restart()
        recovered = try storage.recover()
        #expect(recovered == Observed(reference))
        #expect(recovered.snapshot == installed)
        #expect(recovered.entries.isEmpty)
        #expect(recovered.firstIndex == 21)
        try apply(.append(firstIndex: 21, entries: [Self.d]), to: storage, &reference)
        try storage.restart()
        #expect(try storage.recover() == Observed(reference))
    }

    @Test(arguments: Implementation.allCases)
    func hardStateSurvivesRestartAndCompaction(_ implementation: Implementation) throws {
        let storage = try implementation.make()
        try storage.apply(.hardState(TestHardState(term: 1, votedFor: 1)))
        try storage.sync()
        try storage.apply(.hardState(TestHardState(term: 2, votedFor: nil)))
        try storage.restart()
        #expect(try storage.recover().hardState == TestHardState(term: 2, votedFor: nil))
        try storage.apply(.append(firstIndex: 1, entries: [Self.a, Self.b]))
        try storage.apply(.snapshot(Snapshot(lastIndex: 1, lastTerm: 1, data: [])))
        try storage.restart()
        let recovered = try storage.recover()
        #expect(recovered.hardState == TestHardState(term: 2, votedFor: nil))
        #expect(recovered.entries == [Self.b])
    }

    /// Property: any sequence of operations, syncs and clean restarts leaves the storage recovering
    /// what a reference `StoredState` holds, and both reject the same invalid operations.
    @Test(arguments: Implementation.allCases)
    func randomOperationSequencesRecoverLikeStoredState(_ implementation: Implementation) throws {
        for seed in sweepSeeds(200) {
            let storage = try implementation.make(segmentSize: 256)
            var reference = State()
            var operations = RandomOperations(seed: seed)
            var failed = false
            for _ in 0..<40 where !failed {
                switch operations.next(after: reference) {
                case .apply(let op):
                    var expected = reference
                    let referenceAccepts = (try? expected.apply(op)) != nil
                    let storageAccepts = (try? storage.apply(op)) != nil
                    if storageAccepts != referenceAccepts {
                        Issue.record("\(implementation) \(storageAccepts ? "accepted" : "rejected") \(op) unlike StoredState; \(replayHint(seed, "randomOperationSequences"))")
                        failed = true
                    }
                    reference = expected
                case .sync:
                    try storage.sync()
                case .restart:
                    try storage.restart()
                }
                let recovered = try storage.recover()
                if recovered != Observed(reference) {
                    Issue.record("\(implementation) recovered \(recovered), expected \(Observed(reference)); \(replayHint(seed, "randomOperationSequences"))")
                    failed = true
                }
            }
            try storage.restart()
            if !failed, try storage.recover() != Observed(reference) {
                Issue.record("\(implementation) after the final restart: \(try storage.recover()) ≠ \(Observed(reference)); \(replayHint(seed, "randomOperationSequences"))")
            }
            if failed { break }
        }
    }
}
