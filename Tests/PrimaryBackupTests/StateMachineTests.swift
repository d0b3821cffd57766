import ConsensusCore
import KVStore
import PrimaryBackup
import Storage
import Testing

/// Single nodes driven by hand, etcd-raft style: inputs in, effects checked.
@Suite struct StateMachineTests {
    let cluster = NodeID.cluster(3)
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    func node(_ id: NodeID, cluster: [NodeID]? = nil, recovered: RecoveredState<StampedRequest, PrimaryBackup.HardState> = .empty) -> PrimaryBackup {
        PrimaryBackup(id: id, cluster: cluster ?? self.cluster, options: PrimaryBackupOptions(), recovered: recovered, seed: 7)
    }

    func step(_ backend: inout PrimaryBackup, _ input: Input<PrimaryBackup.Message>, at ms: Int64) -> Effects<PrimaryBackup> {
        var out = Effects<PrimaryBackup>()
        backend.step(input, at: .zero + .milliseconds(ms), into: &out)
        return out
    }

    func put(_ key: String, _ value: String, client: Int = 1, sequence: UInt64 = 1) -> ClientRequest {
        ClientRequest(client: ClientID(client), sequence: sequence, command: .put(key: key, value: value))
    }

    /// A write as a primary stamped it, `ms` into the run.
    func stamped(_ request: ClientRequest, at ms: Int64 = 0) -> StampedRequest { StampedRequest(request, at: .zero + .milliseconds(ms)) }

    @Test func thePrimaryAcknowledgesAfterLoggingAndStreamsAfterwards() throws {
        var primary = node(n1)
        let start = step(&primary, .tick, at: 0)
        #expect(start.events.contains(.role(.leader, term: 0, name: "primary")))
        #expect(start.messages.filter { $0.to != n1 }.map(\.departure) == [.afterWrites, .afterWrites],
                "a heartbeat to each backup, held for the disk while the configuration is not known durable")
        let ownAck = try #require(start.messages.first { $0.to == n1 }, "its own acknowledgement, delivered back once the configuration is on disk")
        // A backup acknowledges offset 0 of our history: it is now streamed to.
        _ = step(&primary, .receive(from: n2, message: .ack(.init(config: primary.hard.config, history: primary.hard.replicationID, offset: 0))), at: 1)
        let write = step(&primary, .client(put("k", "v")), at: 2)
        #expect(write.replies == [ClientReply(to: put("k", "v"), .ok(.done))], "answered at once, before any backup has it")
        guard case .append(1, let entries) = write.storage.first else { Issue.record("not logged: \(write.storage)"); return }
        #expect(entries == [stamped(put("k", "v"), at: 2)], "with the primary's time, at which backups apply it")
        #expect(write.messages.map(\.to) == [n2], "streamed to the backup that acknowledged; n3 only gets heartbeats until it does")
        #expect(write.messages.first?.departure == .afterWrites, "a crash could still lose the configuration: the stream waits")
        guard case .replicate(let slice) = write.messages.first?.message else { Issue.record("expected REPLICATE"); return }
        #expect(slice.prevOffset == 0 && slice.writes == [stamped(put("k", "v"), at: 2)])
        // The configuration is durable: the stream no longer waits for the primary's disk (the reply still does).
        _ = step(&primary, .receive(from: n1, message: ownAck.message), at: 3)
        let next = step(&primary, .client(put("k", "w", client: 2)), at: 4)
        #expect(next.messages.map(\.to) == [n2] && next.messages.first?.departure == .atOnce)
        // A retry of the same request is answered from the session, not applied again.
        let retry = step(&primary, .client(put("k", "v")), at: 5)
        #expect(retry.storage.isEmpty && retry.replies.first?.status == .ok(.done))
        #expect(primary.offset == 2)
    }

    @Test func backupsServeReadsLocallyAndRedirectWrites() {
        var backup = node(n2)
        let start = step(&backup, .tick, at: 0)
        #expect(start.events.contains(.role(.follower, term: 0, name: "backup")))
        let heartbeat = PrimaryBackup.Replicate(config: backup.hard.config, previousID: nil, previousEnd: 0, prevOffset: 0, writes: [stamped(put("k", "v"))])
        _ = step(&backup, .receive(from: n1, message: .replicate(heartbeat)), at: 1)
        let read = ClientRequest(client: ClientID(9), sequence: 1, command: .get(key: "k"))
        #expect(step(&backup, .client(read), at: 2).replies.first?.status == .ok(.value("v")))
        #expect(step(&backup, .client(put("k", "w", client: 9, sequence: 2)), at: 3).replies.first?.status == .notLeader(hint: n1))
        // Once it considers the primary down it no longer sends writers there.
        #expect(step(&backup, .client(put("k", "w", client: 9, sequence: 2)), at: 400).replies.first?.status == .notLeader(hint: nil))
        #expect(step(&backup, .client(read), at: 401).replies.first?.status == .ok(.value("v")), "reads stay available")
    }

    @Test func aBackupThatMissedWritesAsksForTheRest() {
        var backup = node(n2)
        _ = step(&backup, .tick, at: 0)
        let ahead = PrimaryBackup.Replicate(config: backup.hard.config, previousID: nil, previousEnd: 0, prevOffset: 5, writes: [])
        let out = step(&backup, .receive(from: n1, message: .replicate(ahead)), at: 1)
        guard case .psync(let position) = out.messages.first?.message else { Issue.record("expected PSYNC, got \(out.messages)"); return }
        #expect(out.messages.first?.to == n1 && position.offset == 0)
        #expect(step(&backup, .receive(from: n1, message: .replicate(ahead)), at: 2).messages.isEmpty, "at most one PSYNC per heartbeat")
    }

    /// A network that reorders and duplicates is not a lost stream: early slices wait for the gap
    /// to fill and are applied when it does, duplicates are dropped, and one PSYNC is all it asks.
    @Test func aBackupHoldsEarlySlicesUntilTheGapFills() {
        var backup = node(n2)
        _ = step(&backup, .tick, at: 0)
        let writes = (1...3).map { stamped(put("k", "v\($0)", sequence: UInt64($0))) }
        func slice(_ index: Int) -> PrimaryBackup.Message {
            .replicate(.init(config: backup.hard.config, previousID: nil, previousEnd: 0, prevOffset: index, writes: [writes[index]]))
        }
        var sent: [PrimaryBackup.Message] = []
        for (ms, message) in [slice(2), slice(1), slice(2), slice(0)].enumerated() {
            sent += step(&backup, .receive(from: n1, message: message), at: Int64(ms) + 1).messages.map(\.message)
        }
        #expect(backup.offset == 3 && backup.store.read("k") == "v3", "the late first slice closed the gap: the held ones followed")
        #expect(sent.map(\.kind) == [.psync], "one PSYNC, in case the gap was a loss")
        let duplicate = step(&backup, .receive(from: n1, message: slice(1)), at: 5)
        #expect(duplicate.storage.isEmpty && backup.offset == 3)
    }

    @Test func thePrimaryServesPartialResyncsFromItsBacklogAndFullOnesBeyondIt() throws {
        var options = PrimaryBackupOptions()
        options.backlog = 3
        var primary = PrimaryBackup(id: n1, cluster: cluster, options: options, recovered: .empty, seed: 7)
        _ = step(&primary, .tick, at: 0)
        for sequence in 1...10 as ClosedRange<UInt64> { _ = step(&primary, .client(put("k", "v\(sequence)", sequence: sequence)), at: 1) }
        let recent = step(&primary, .receive(from: n2, message: .psync(.init(config: primary.hard.config, history: primary.hard.replicationID, offset: 8))), at: 2)
        guard case .replicate(let slice) = recent.messages.first?.message else { Issue.record("expected REPLICATE, got \(recent.messages)"); return }
        #expect(slice.prevOffset == 8 && slice.writes.count == 2)
        let old = step(&primary, .receive(from: n3, message: .psync(.init(config: primary.hard.config, history: primary.hard.replicationID, offset: 2))), at: 3)
        guard case .fullResync(let resync) = old.messages.first?.message else { Issue.record("expected FULLRESYNC, got \(old.messages)"); return }
        #expect(resync.offset == 10)
        #expect(try KVStore(snapshot: resync.data, sessions: SessionOptions()) == primary.store)
        let foreign = PrimaryBackup.Configuration(epoch: 0, primary: n3)
        let unrelated = step(&primary, .receive(from: n3, message: .psync(.init(config: primary.hard.config, history: foreign, offset: 9))), at: 4)
        guard case .fullResync = unrelated.messages.first?.message else { Issue.record("another history must be resynchronised fully"); return }
    }

    @Test func aFullResyncReplacesTheStateAndSurvivesARestart() throws {
        var backup = node(n2)
        _ = step(&backup, .tick, at: 0)
        let mine = PrimaryBackup.Replicate(config: backup.hard.config, previousID: nil, previousEnd: 0, prevOffset: 0, writes: [stamped(put("a", "1")), stamped(put("b", "2", sequence: 2))])
        var storage = StoredState<StampedRequest, PrimaryBackup.HardState>()
        try storage.apply(step(&backup, .receive(from: n1, message: .replicate(mine)), at: 1))
        var source = KVStore(sessions: SessionOptions())
        _ = source.apply(put("c", "3", client: 5), at: .zero)
        let newer = PrimaryBackup.Configuration(epoch: 4, primary: n3)
        let resync = PrimaryBackup.FullResync(config: newer, previousID: nil, previousEnd: 0, offset: 1, data: source.snapshot())
        let out = step(&backup, .receive(from: n3, message: .fullResync(resync)), at: 2)
        try storage.apply(out)
        #expect(backup.store == source && backup.offset == 1 && backup.hard.replicationID == newer && backup.hard.config == newer)
        #expect(out.events.contains(.role(.follower, term: 4, name: "backup")))
        // The old writes are gone for good: a restart recovers the resynchronised state.
        var restarted = node(n2, recovered: storage.recovered)
        #expect(restarted.store == source && restarted.offset == 1 && restarted.hard == backup.hard)
        // And it continues at the right offset.
        let next = PrimaryBackup.Replicate(config: newer, previousID: nil, previousEnd: 0, prevOffset: 1, writes: [stamped(put("d", "4", client: 5, sequence: 2), at: 3)])
        try storage.apply(step(&restarted, .receive(from: n3, message: .replicate(next)), at: 3))
        let again = node(n2, recovered: storage.recovered)
        #expect(again.offset == 2 && again.store.read("d") == "4" && again.store.read("a") == nil)
    }

    @Test func aNodeVotesOncePerEpochEvenAcrossARestart() throws {
        let five = NodeID.cluster(5)
        var voter = node(n3, cluster: five)
        _ = step(&voter, .tick, at: 0)
        let request = PrimaryBackup.VoteRequest(epoch: 1, config: voter.hard.config)
        let first = step(&voter, .receive(from: n2, message: .voteRequest(request)), at: 100)
        guard case .vote(let refused) = first.messages.first?.message else { Issue.record("no answer"); return }
        #expect(!refused.granted, "it still hears nothing wrong: the primary is not down for it yet")
        var storage = StoredState<StampedRequest, PrimaryBackup.HardState>()
        let granted = step(&voter, .receive(from: n2, message: .voteRequest(request)), at: 400)
        try storage.apply(granted)
        guard case .vote(let vote) = granted.messages.first?.message else { Issue.record("no answer"); return }
        #expect(vote.granted && vote.epoch == 1)
        var restarted = node(n3, cluster: five, recovered: storage.recovered)
        _ = step(&restarted, .tick, at: 500)
        let rival = step(&restarted, .receive(from: n4, message: .voteRequest(request)), at: 900)
        guard case .vote(let second) = rival.messages.first?.message else { Issue.record("no answer"); return }
        #expect(!second.granted, "one vote per epoch: the vote was persisted")
    }

    @Test func aStalePrimaryStepsDownWhenItHearsOfANewerConfiguration() {
        var primary = node(n1)
        _ = step(&primary, .tick, at: 0)
        let newer = PrimaryBackup.Configuration(epoch: 2, primary: n2)
        let out = step(&primary, .receive(from: n3, message: .ack(.init(config: newer, history: newer, offset: 0))), at: 5)
        #expect(primary.role == .backup && primary.hard.config == newer)
        #expect(out.events.contains(.role(.follower, term: 2, name: "backup")))
        guard case .psync(let position) = out.messages.first?.message else { Issue.record("expected PSYNC to the new primary"); return }
        #expect(out.messages.first?.to == n2 && position.history == PrimaryBackup.Configuration(epoch: 0, primary: n1))
        let write = step(&primary, .client(put("k", "v")), at: 6)
        #expect(write.replies.first?.status == .notLeader(hint: n2))
    }

    @Test func optionsAreValidatedWithReasons() {
        var options = PrimaryBackupOptions()
        #expect(throws: OptionError.self) { try options.set("heartbeat", to: .string("0ms")) }
        #expect(throws: OptionError.self) { try options.set("backlog", to: .number(0)) }
        #expect(throws: OptionError.self) { try options.set("minReplicasToWrite", to: .number(-1)) }
        #expect(throws: OptionError.self) { try options.set("downAfter", to: .number(300)) }
        #expect(throws: OptionError.self) { try options.set("readMode", to: .string("local")) }
        do { try options.set("minReplicasToWrite", to: .number(2)) } catch { Issue.record("\(error)") }
        #expect(options.minReplicasToWrite == 2)
        #expect(Set(PrimaryBackupOptions.documentation.map(\.name)) == ["heartbeat", "downAfter", "failoverTimeout", "replicationLag", "backlog", "minReplicasToWrite", "minReplicasMaxLag",
                                                                       "bug", "sessionTimeout", "sessionResults"])
    }

    @Test func hardStateRoundTrips() throws {
        var state = PrimaryBackup.HardState(initialPrimary: n1)
        state.currentEpoch = 9
        state.votedEpoch = 8
        state.votedFor = n3
        state.config = .init(epoch: 8, primary: n2)
        state.replicationID = nil
        state.previousID = .init(epoch: 3, primary: n1)
        state.previousEnd = 42
        var writer = ByteWriter()
        state.encode(to: &writer)
        var reader = ByteReader(writer.bytes)
        #expect(try PrimaryBackup.HardState(from: &reader) == state)
        #expect(reader.isAtEnd)
    }
}

extension StoredState where Entry == StampedRequest, HardState == PrimaryBackup.HardState {
    /// Applies a step's storage operations in order, as the driver does.
    mutating func apply(_ effects: Effects<PrimaryBackup>) throws {
        for op in effects.storage { try apply(op) }
    }
}
