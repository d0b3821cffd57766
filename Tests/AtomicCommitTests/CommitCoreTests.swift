import AtomicCommit
import ConsensusCore
import Testing
import ThreePhaseCommit
import TwoPhaseCommit

/// The shared machinery, driven one input at a time on a three-node cluster.
@Suite struct CommitCoreTests {
    static let cluster = NodeID.cluster(3)
    static let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    static func twoPhase(_ id: NodeID, _ options: TwoPhaseCommit.Options = .init(),
                         recovered: RecoveredState<TransactionRecord, CommitHardState> = .empty) -> TwoPhaseCommit {
        TwoPhaseCommit(id: id, cluster: cluster, options: options, recovered: recovered, seed: 0)
    }

    static func put(_ key: String, _ value: String, client: Int = 1, sequence: UInt64 = 1) -> ClientRequest {
        ClientRequest(client: ClientID(client), sequence: sequence, command: .put(key: key, value: value))
    }

    /// What a node logged, as storage would recover it.
    static func recovered<B: ReplicationBackend>(_ steps: [Effects<B>]) -> RecoveredState<TransactionRecord, CommitHardState> where B.Entry == TransactionRecord {
        var entries: [TransactionRecord] = []
        for out in steps {
            for case .append(let first, let records) in out.storage {
                #expect(first == entries.count + 1, "records are appended in order")
                entries += records
            }
        }
        return RecoveredState(entries: entries)
    }

    static func sent(_ out: Effects<TwoPhaseCommit>) -> [String] {
        out.messages.map { "\($0.message.kind.rawValue)→\($0.to)" }
    }

    static func step(_ node: inout TwoPhaseCommit, _ input: Input<TwoPhaseCommit.Message>, at ms: Int64 = 0) -> Effects<TwoPhaseCommit> {
        var out = Effects<TwoPhaseCommit>()
        node.step(input, at: Instant(microseconds: ms * 1_000), into: &out)
        return out
    }

    static func transaction(_ out: Effects<TwoPhaseCommit>) -> TransactionID? {
        for outgoing in out.messages { if case .voteRequest(let id, _) = outgoing.message.body { return id } }
        return nil
    }

    @Test func logRecordsRoundTripAndGarbageIsAnError() throws {
        let id = TransactionID(coordinator: NodeID(3), counter: 41)
        let records: [TransactionRecord] = [.prepared(id, Self.put("k", "v"), at: .zero + .seconds(3)), .preCommitted(id), .decided(id, commit: true), .decided(id, commit: false), .ended(id)]
        for record in records {
            var writer = ByteWriter()
            record.encode(to: &writer)
            var reader = ByteReader(writer.bytes)
            #expect(try TransactionRecord(from: &reader) == record)
            #expect(reader.isAtEnd)
            var truncated = ByteReader(Array(writer.bytes.dropLast()))
            #expect(throws: BinaryDecodingError.self) { try TransactionRecord(from: &truncated) }
        }
        var garbage = ByteReader([9])
        #expect(throws: BinaryDecodingError.invalid("transaction record tag", offset: 0)) { try TransactionRecord(from: &garbage) }
        #expect(id.rawValue == 3 << 48 | 41)
    }

    /// A client's retry (same sequence number) never starts a second transaction: while the first
    /// is undecided it is not answered, afterwards it gets the first answer; a sequence the client
    /// has finished with (at or below its `ackedThrough`) is refused as superseded.
    @Test func aRetriedWriteStartsOneTransaction() throws {
        var n1 = Self.twoPhase(Self.n1)
        var request = Self.put("a", "x", sequence: 2)
        request.ackedThrough = 1
        let start = Self.step(&n1, .client(request))
        #expect(Self.sent(start) == ["PREPARE→n2", "PREPARE→n3"])
        #expect(start.events.filter { if case .coordinating = $0 { true } else { false } }.count == 1)
        let id = try #require(Self.transaction(start))
        #expect(Self.step(&n1, .client(request), at: 5).isEmpty, "in progress: neither a new transaction nor an answer")
        _ = Self.step(&n1, .receive(from: Self.n2, message: .init(.vote(id, yes: true))), at: 6)
        let decided = Self.step(&n1, .receive(from: Self.n3, message: .init(.vote(id, yes: true))), at: 7)
        #expect(decided.replies == [ClientReply(to: request, .ok(.done))])
        #expect(Self.sent(decided) == ["COMMIT→n2", "COMMIT→n3"])
        let retry = Self.step(&n1, .client(request), at: 8)
        #expect(retry.replies == [ClientReply(to: request, .ok(.done))] && retry.messages.isEmpty && retry.storage.isEmpty)
        let older = Self.step(&n1, .client(Self.put("a", "y", sequence: 1)), at: 9)
        #expect(older.replies.map(\.status) == [.rejected(.superseded)] && older.messages.isEmpty)
    }

    /// Transaction ids are unique across restarts: the counter resumes above the log's highest id.
    @Test func transactionIDsSurviveARestart() throws {
        var n1 = Self.twoPhase(Self.n1)
        let first = Self.step(&n1, .client(Self.put("a", "1", client: 1)))
        let second = Self.step(&n1, .client(Self.put("b", "2", client: 2)))
        var restarted = Self.twoPhase(Self.n1, recovered: Self.recovered([first, second]))
        let third = Self.step(&restarted, .client(Self.put("c", "3", client: 3)))
        #expect(try #require(Self.transaction(third)).counter == 3)
        #expect(try #require(Self.transaction(second)).counter == 2)
    }

    /// A participant locks the key with its logged YES; a conflicting PREPARE is voted NO; a read
    /// of the key waits for the decision and then sees it.
    @Test func conflictingPrepareVotesNoAndReadsWait() throws {
        var n2 = Self.twoPhase(Self.n2)
        let t1 = TransactionID(coordinator: Self.n1, counter: 1), t2 = TransactionID(coordinator: Self.n3, counter: 1)
        let yes = Self.step(&n2, .receive(from: Self.n1, message: .init(.voteRequest(t1, Self.put("a", "x")))))
        #expect(Self.sent(yes) == ["YES→n1"])
        #expect(yes.storage.count == 1, "the YES vote is logged before it leaves")
        let no = Self.step(&n2, .receive(from: Self.n3, message: .init(.voteRequest(t2, Self.put("a", "y", client: 2)))))
        #expect(Self.sent(no) == ["NO→n3"] && no.storage.isEmpty)
        let read = ClientRequest(client: ClientID(9), sequence: 1, command: .get(key: "a"))
        #expect(Self.step(&n2, .client(read)).replies.isEmpty)
        #expect(n2.core.locks.parkedReads == 1)
        let commit = Self.step(&n2, .receive(from: Self.n1, message: .init(.decision(t1, commit: true))))
        #expect(commit.replies == [ClientReply(to: read, .ok(.value("x")))])
        #expect(Self.sent(commit) == ["ACK→n1"])
        #expect(commit.events.contains(.decided(transaction: t1.rawValue, commit: true)))
        #expect(n2.core.locks.holder(of: "a") == nil && n2.appliedData == ["a": "x"])
    }

    /// An in-doubt participant asks the coordinator (with cooperative termination, everyone) once
    /// `decisionTimeout` has passed, and again after a restart, which finds the lock still held.
    @Test(arguments: [false, true])
    func inDoubtParticipantAsksAndKeepsItsLockAcrossARestart(cooperative: Bool) throws {
        var options = TwoPhaseCommit.Options()
        options.cooperative = cooperative
        var n2 = Self.twoPhase(Self.n2, options)
        let t1 = TransactionID(coordinator: Self.n1, counter: 1)
        let vote = Self.step(&n2, .receive(from: Self.n1, message: .init(.voteRequest(t1, Self.put("a", "x")))))
        let deadline = try #require(n2.nextDeadline)
        #expect(deadline == Instant(microseconds: 200_000))
        let asks = cooperative ? ["DECISION_REQ→n1", "DECISION_REQ→n3"] : ["DECISION_REQ→n1"]
        #expect(Self.sent(Self.step(&n2, .tick, at: 200)) == asks)
        var restarted = Self.twoPhase(Self.n2, options, recovered: Self.recovered([vote]))
        #expect(restarted.core.locks.holder(of: "a") == t1 && restarted.core.active[t1]?.state == .voted)
        #expect(Self.sent(Self.step(&restarted, .tick, at: 300)) == asks, "a restarted participant asks at once")
        // A peer that has not voted aborts when asked, and says so: the participant adopts it.
        let learned = Self.step(&restarted, .receive(from: Self.n3, message: .init(.stateReport(t1, .aborted))), at: 301)
        #expect(learned.events.contains(.decided(transaction: t1.rawValue, commit: false)))
        #expect(restarted.core.locks.holder(of: "a") == nil)
    }

    /// A restarted 2PC coordinator re-sends a logged COMMIT nobody acknowledged, and aborts a
    /// transaction it had not decided (presumed abort).
    @Test func restartedCoordinatorResendsCommitAndPresumesAbort() throws {
        var n1 = Self.twoPhase(Self.n1)
        let committed = Self.step(&n1, .client(Self.put("a", "1", client: 1)))
        let t1 = try #require(Self.transaction(committed))
        let votes = [Self.step(&n1, .receive(from: Self.n2, message: .init(.vote(t1, yes: true)))),
                     Self.step(&n1, .receive(from: Self.n3, message: .init(.vote(t1, yes: true))))]
        let undecided = Self.step(&n1, .client(Self.put("b", "2", client: 2)))
        let t2 = try #require(Self.transaction(undecided))
        var restarted = Self.twoPhase(Self.n1, recovered: Self.recovered([committed] + votes + [undecided]))
        #expect(restarted.appliedData == ["a": "1"])
        let resumed = Self.step(&restarted, .tick, at: 1)
        #expect(Set(Self.sent(resumed)) == ["COMMIT→n2", "COMMIT→n3", "ABORT→n2", "ABORT→n3"])
        #expect(resumed.events.contains(.decided(transaction: t2.rawValue, commit: false)))
        #expect(restarted.core.active[t1]?.round?.pending == [Self.n2, Self.n3], "COMMIT stays owed until acknowledged")
        #expect(restarted.core.active[t2] == nil, "an abort needs no acknowledgement")
    }

    /// The `reject` fault names a phase by its message kind; a phase the protocol lacks is ignored
    /// with a note; `nil` fails whatever the node is asked next.
    @Test func rejectionsNameTheProtocolsPhases() throws {
        var n2 = Self.twoPhase(Self.n2)
        var ignored = Effects<TwoPhaseCommit>()
        n2.inject(.reject(phase: "PRECOMMIT", count: 1), at: .zero, into: &ignored)
        #expect(ignored.events.contains { if case .note("reject-ignored", _) = $0 { true } else { false } })
        var armed = Effects<TwoPhaseCommit>()
        n2.inject(.reject(phase: "PREPARE", count: 1), at: .zero, into: &armed)
        #expect(armed.events.isEmpty)
        let t1 = TransactionID(coordinator: Self.n1, counter: 1), t2 = TransactionID(coordinator: Self.n1, counter: 2)
        #expect(Self.sent(Self.step(&n2, .receive(from: Self.n1, message: .init(.voteRequest(t1, Self.put("a", "x")))))) == ["NO→n1"])
        #expect(Self.sent(Self.step(&n2, .receive(from: Self.n1, message: .init(.voteRequest(t2, Self.put("a", "x")))))) == ["YES→n1"])

        var p2 = ThreePhaseCommit(id: Self.n2, cluster: Self.cluster, options: .init(), recovered: .empty, seed: 0)
        var out = Effects<ThreePhaseCommit>()
        p2.inject(.reject(phase: "PRECOMMIT", count: 1), at: .zero, into: &out)
        p2.step(.receive(from: Self.n1, message: .init(.voteRequest(t1, Self.put("a", "x")))), at: .zero, into: &out)
        out.removeAll()
        p2.step(.receive(from: Self.n1, message: .preCommit(t1)), at: .zero, into: &out)
        #expect(out.messages.map(\.message.kind) == [.preCommitFail])
        #expect(out.events.contains(.decided(transaction: t1.rawValue, commit: false)), "failing PreCommit rolls the participant back")
    }

    /// 3PC's timeout rules: no PreCommit in time → abort; pre-committed and no decision in time →
    /// commit. A restarted participant asks first and applies its timeout from the restart.
    @Test func threePhaseTimeoutRules() throws {
        let t1 = TransactionID(coordinator: Self.n1, counter: 1), t2 = TransactionID(coordinator: Self.n1, counter: 2)
        var p2 = ThreePhaseCommit(id: Self.n2, cluster: Self.cluster, options: .init(), recovered: .empty, seed: 0)
        var log: [Effects<ThreePhaseCommit>] = []
        func step(_ input: Input<ThreePhaseCommit.Message>, at ms: Int64) -> Effects<ThreePhaseCommit> {
            var out = Effects<ThreePhaseCommit>()
            p2.step(input, at: Instant(microseconds: ms * 1_000), into: &out)
            log.append(out)
            return out
        }
        _ = step(.receive(from: Self.n1, message: .init(.voteRequest(t1, Self.put("a", "x")))), at: 0)
        _ = step(.receive(from: Self.n1, message: .init(.voteRequest(t2, Self.put("b", "y")))), at: 0)
        #expect(step(.receive(from: Self.n1, message: .preCommit(t2)), at: 1).messages.map(\.message.kind) == [.preCommitAck])
        let recovered = Self.recovered(log)
        let aborted = step(.tick, at: 300)
        #expect(aborted.events.contains(.decided(transaction: t1.rawValue, commit: false)))
        let committed = step(.tick, at: 501)
        #expect(committed.events.contains(.decided(transaction: t2.rawValue, commit: true)))
        #expect(p2.appliedData == ["b": "y"])

        var restarted = ThreePhaseCommit(id: Self.n2, cluster: Self.cluster, options: .init(), recovered: recovered, seed: 0)
        var out = Effects<ThreePhaseCommit>()
        restarted.step(.tick, at: Instant(microseconds: 2_000_000), into: &out)
        #expect(out.messages.map(\.message.kind) == [.stateRequest, .stateRequest, .stateRequest, .stateRequest])
        #expect(out.events.isEmpty, "asks before deciding")
        #expect(restarted.nextDeadline == Instant(microseconds: 2_300_000))
    }

    @Test func optionsRejectBadValues() {
        var options = ThreePhaseCommit.Options()
        #expect(throws: OptionError.self) { try options.set("commitTimeout", to: .string("0ms")) }
        #expect(throws: OptionError.self) { try options.set("termination", to: .string("yes")) }
        #expect(throws: OptionError.self) { try options.set("cooperative", to: .bool(true)) }
        var twoPhase = TwoPhaseCommit.Options()
        #expect(throws: OptionError.self) { try twoPhase.set("voteTimeout", to: .string("100")) }
    }
}
