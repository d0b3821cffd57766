import ConsensusCore
import KVStore
import Testing

@Suite struct KVStoreTests {
    func request(_ client: Int, _ sequence: UInt64, _ command: Command, acked: UInt64 = 0, established: Bool = false) -> ClientRequest {
        ClientRequest(client: ClientID(client), sequence: sequence, command: command, ackedThrough: acked, established: established)
    }

    func at(_ seconds: Int64) -> Instant { .zero + .seconds(seconds) }

    func store(timeout: TimeSpan = .seconds(3_600), results: Int = 64) -> KVStore {
        var options = SessionOptions()
        options.timeout = timeout
        options.maxResults = results
        return KVStore(sessions: options)
    }

    @Test func commandsBehaveAsAMap() {
        var store = store()
        #expect(store.execute(.get(key: "a")) == .value(nil))
        #expect(store.execute(.put(key: "a", value: "1")) == .done)
        #expect(store.execute(.append(key: "a", value: "2")) == .done)
        #expect(store.execute(.append(key: "b", value: "x")) == .done)
        #expect(store.execute(.cas(key: "a", expected: "1", value: "3")) == .casMismatch(current: "12"))
        #expect(store.execute(.cas(key: "a", expected: "12", value: "3")) == .done)
        #expect(store.execute(.cas(key: "c", expected: nil, value: "new")) == .done)
        #expect(store.execute(.delete(key: "b")) == .done)
        #expect(store.data == ["a": "3", "c": "new"])
    }

    @Test func retriesAndDuplicatesApplyOnceAndGetTheFirstReply() {
        var store = store()
        let append = request(1, 1, .append(key: "k", value: "x"))
        let first = store.apply(append, at: at(1))
        for second in 2..<7 { #expect(store.apply(append, at: at(Int64(second))) == first) }
        #expect(store.read("k") == "x")
        let cas = request(1, 2, .cas(key: "k", expected: "x", value: "y"), acked: 1, established: true)
        #expect(store.apply(cas, at: at(8)) == .ok(.done))
        // The duplicate of a successful cas must not report the mismatch it would now cause.
        #expect(store.apply(cas, at: at(9)) == .ok(.done))
        #expect(store.read("k") == "y")
        // Another client's requests are independent.
        #expect(store.apply(request(2, 1, .append(key: "k", value: "z")), at: at(10)) == .ok(.done))
        #expect(store.read("k") == "yz")
    }

    /// Thesis §6.3 and RIFL: a client with several requests in flight gets each one's own first
    /// answer, whichever order they are applied in and however often they are retried.
    @Test func severalOutstandingRequestsEachKeepTheirFirstAnswer() {
        var store = store()
        let writes = (1...3).map { request(1, UInt64($0), .append(key: "k", value: "\($0)")) }
        #expect(store.apply(writes[2], at: at(1)) == .ok(.done))
        #expect(store.apply(writes[0], at: at(2)) == .ok(.done))
        let read = request(1, 4, .get(key: "k"))
        #expect(store.apply(read, at: at(3)) == .ok(.value("31")))
        #expect(store.apply(writes[1], at: at(4)) == .ok(.done))
        for write in writes { #expect(store.apply(write, at: at(5)) == .ok(.done)) }
        #expect(store.apply(read, at: at(6)) == .ok(.value("31")), "the retried read gets its first answer, not today's value")
        #expect(store.read("k") == "312", "each append applied once")
        #expect(store.sessions.sessions[ClientID(1)]?.records.map(\.sequence) == [1, 2, 3, 4])
        #expect(store.cachedReply(for: writes[1]) == .ok(.done))
    }

    /// The watermark: answers at or below it are discarded, and a request at or below it that
    /// was never applied is refused — an operation the client gave up on never takes effect late.
    @Test func theWatermarkDiscardsAnswersAndRefusesWhatTheClientFinished() {
        var store = store()
        _ = store.apply(request(1, 1, .put(key: "k", value: "one")), at: at(1))
        _ = store.apply(request(1, 3, .put(key: "k", value: "three")), at: at(2))
        // Request 2 was given up on while in flight; 4 says the client is done through 3.
        #expect(store.apply(request(1, 4, .put(key: "k", value: "four"), acked: 3, established: true), at: at(3)) == .ok(.done))
        #expect(store.sessions.sessions[ClientID(1)]?.watermark == 3)
        #expect(store.sessions.sessions[ClientID(1)]?.records.map(\.sequence) == [4])
        #expect(store.apply(request(1, 2, .put(key: "k", value: "late")), at: at(4)) == .rejected(.superseded), "never applied late")
        #expect(store.apply(request(1, 1, .put(key: "k", value: "one")), at: at(5)) == .rejected(.superseded), "its answer is gone, not re-applied")
        #expect(store.read("k") == "four")
        #expect(store.cachedReply(for: request(1, 2, .get(key: "k"))) == .rejected(.superseded))
        #expect(store.cachedReply(for: request(1, 5, .get(key: "k"))) == nil)
        // A watermark never goes back: an older copy carrying a lower one changes nothing.
        _ = store.apply(request(1, 4, .put(key: "k", value: "four"), acked: 1, established: true), at: at(6))
        #expect(store.sessions.sessions[ClientID(1)]?.watermark == 3)
    }

    /// `sessionResults` bounds what a session keeps: beyond it the oldest answer goes and the
    /// watermark moves past it, so its retry is refused, never applied a second time.
    @Test func theCachedAnswersPerSessionAreBounded() {
        var store = store(results: 3)
        for sequence in 1...5 as ClosedRange<UInt64> { _ = store.apply(request(1, sequence, .append(key: "k", value: "\(sequence)")), at: at(1)) }
        let session = store.sessions.sessions[ClientID(1)]
        #expect(session?.records.map(\.sequence) == [3, 4, 5] && session?.watermark == 2)
        #expect(store.apply(request(1, 1, .append(key: "k", value: "1")), at: at(2)) == .rejected(.superseded))
        #expect(store.apply(request(1, 5, .append(key: "k", value: "5")), at: at(2)) == .ok(.done))
        #expect(store.read("k") == "12345")
    }

    /// Thesis §6.3: expiry follows the stamps of the applied requests, so every replica expires a
    /// session at the same request; the clock never goes back, whatever the stamps do.
    @Test func sessionsExpireByTheRequestsStamps() {
        var store = store(timeout: .seconds(10))
        _ = store.apply(request(1, 1, .put(key: "a", value: "1")), at: at(0))
        _ = store.apply(request(2, 1, .put(key: "b", value: "1")), at: at(0))
        // Client 2 stays active; a stamp from a leader whose clock is behind does not rewind time.
        _ = store.apply(request(2, 2, .put(key: "b", value: "2"), acked: 1, established: true), at: at(8))
        _ = store.apply(request(2, 3, .put(key: "b", value: "3"), acked: 2, established: true), at: at(5))
        #expect(store.sessions.clock == at(8))
        #expect(store.sessions.sessions[ClientID(2)]?.lastActive == at(8))
        // Exactly the timeout idle is still alive; a microsecond more is not.
        _ = store.apply(request(2, 4, .get(key: "b"), acked: 3, established: true), at: at(10))
        #expect(store.apply(request(1, 1, .put(key: "a", value: "1")), at: at(10)) == .ok(.done), "a retry at 10 s is answered")
        _ = store.apply(request(2, 5, .get(key: "b"), acked: 4, established: true), at: at(15))
        _ = store.apply(request(2, 6, .get(key: "b"), acked: 5, established: true), at: at(20) + .microseconds(1))
        #expect(store.apply(request(1, 2, .put(key: "a", value: "2"), acked: 1, established: true), at: at(20) + .microseconds(1))
                    == .rejected(.sessionExpired))
        #expect(store.read("a") == "1" && store.sessions.sessions[ClientID(1)] == nil)
        #expect(store.sessions.sessions[ClientID(2)] != nil)
    }

    /// Memory: an idle session goes at the first sweep after its timeout (each time the clock
    /// enters a new timeout-long period), even if its client never comes back.
    @Test func idleSessionsAreSweptWithoutTheirClients() {
        var store = store(timeout: .seconds(10))
        for client in 1...100 { _ = store.apply(request(client, 1, .put(key: "k", value: "\(client)")), at: at(1)) }
        _ = store.apply(request(1000, 1, .get(key: "k")), at: at(10) + .milliseconds(500))
        _ = store.apply(request(1000, 2, .get(key: "k"), acked: 1), at: at(15))
        #expect(store.sessions.sessions.count == 101, "idle 14 s, expired, but not swept within the 10–20 s period")
        _ = store.apply(request(1000, 3, .get(key: "k"), acked: 2), at: at(21))
        #expect(store.sessions.sessions.keys.map(\.rawValue) == [1000], "swept on entering the 20 s period")
        // A Raft no-op's stamp moves the clock too.
        store.advanceClock(to: at(40))
        #expect(store.sessions.sessions.isEmpty)
    }

    /// No registration: a client the store does not know opens a session with its first request,
    /// unless it says it had one — then its session expired (or was lost) and a retry of a request
    /// applied in it could be applied twice, so the store refuses.
    @Test func anUnknownClientThatHadASessionIsRefusedAsExpired() {
        var store = store()
        let resumed = request(7, 12, .append(key: "k", value: "x"), acked: 11, established: true)
        #expect(store.apply(resumed, at: at(1)) == .rejected(.sessionExpired))
        #expect(store.data.isEmpty && store.sessions.sessions.isEmpty)
        #expect(store.cachedReply(for: resumed) == nil, "only applying in log order may conclude that a session expired")
        // Its new session, under a new id, starts afresh — and may begin with any sequence.
        #expect(store.apply(request(8, 1, .append(key: "k", value: "x")), at: at(2)) == .ok(.done))
        #expect(store.apply(request(9, 5, .append(key: "k", value: "y"), acked: 3), at: at(2)) == .ok(.done), "reads before the first write")
        #expect(store.read("k") == "xy")
    }

    /// Replicas apply the same stamped requests in the same order and end equal — sessions, clock
    /// and answers included — also when one of them restarts from a snapshot on the way.
    @Test func replicasApplyingTheSameStampedRequestsAgree() throws {
        var random = DeterministicRandom(seed: 5)
        var stamps: [Instant] = []
        var requests: [ClientRequest] = []
        var sequences = [UInt64](repeating: 0, count: 6)
        for step in 0..<400 {
            // Client 6 comes rarely: long enough idle for its session to expire now and then.
            let client = random.chance(0.04) ? 5 : random.index(below: 5)
            let retry = sequences[client] > 0 && random.chance(0.3)
            if !retry { sequences[client] += 1 }
            let sequence = retry ? sequences[client] - UInt64(random.index(below: Int(min(sequences[client], 3)))) : sequences[client]
            requests.append(request(client + 1, sequence, .append(key: "k\(client % 3)", value: "\(step)"),
                                    acked: sequence > 3 ? sequence - 3 : 0, established: sequence > 3))
            stamps.append(.zero + .milliseconds(Int64(step) * 40 + Int64(random.index(below: 30))))
        }
        var a = store(timeout: .seconds(2), results: 2), b = store(timeout: .seconds(2), results: 2)
        var repliesA: [ReplyStatus] = [], repliesB: [ReplyStatus] = []
        for (position, request) in requests.enumerated() {
            repliesA.append(a.apply(request, at: stamps[position]))
            if position == 200 { b = try KVStore(snapshot: b.snapshot(), sessions: b.sessions.options) }
            repliesB.append(b.apply(request, at: stamps[position]))
        }
        #expect(repliesA == repliesB)
        #expect(a == b && a.snapshot() == b.snapshot())
        #expect(repliesA.contains(.rejected(.sessionExpired)) && repliesA.contains(.rejected(.superseded)), "the run exercises both refusals")
    }

    @Test func snapshotsRoundTripWithSessionsAndAreCanonical() throws {
        var a = store(results: 4)
        let requests = (1...20).map { request($0 % 3, UInt64($0), .append(key: "k\($0 % 4)", value: "\($0)"), acked: UInt64(max($0 - 6, 0))) }
        for (position, r) in requests.enumerated() { _ = a.apply(r, at: at(Int64(position))) }
        let restored = try KVStore(snapshot: a.snapshot(), sessions: a.sessions.options)
        #expect(restored == a)
        #expect(restored.sessions.sessions.values.contains { $0.records.count > 1 && $0.watermark > 0 }, "several answers and a watermark survive")
        var replay = restored
        #expect(replay.apply(requests.last!, at: at(30)) == a.cachedReply(for: requests.last!))
        // Equal states reached in another order (other dictionary layouts) encode alike.
        var forward = store(), backward = store()
        let puts = (1...30).map { request($0, 1, .put(key: "k\($0)", value: "v")) }
        for put in puts { _ = forward.apply(put, at: at(5)) }
        for put in puts.reversed() { _ = backward.apply(put, at: at(5)) }
        #expect(forward == backward && forward.snapshot() == backward.snapshot())
        let bytes = a.snapshot()
        #expect(throws: BinaryDecodingError.self) { try KVStore(snapshot: Array(bytes.dropLast()), sessions: SessionOptions()) }
        #expect(throws: BinaryDecodingError.self) { try KVStore(snapshot: bytes + [0], sessions: SessionOptions()) }
        #expect(throws: BinaryDecodingError.invalid("snapshot version", offset: 0)) {
            try KVStore(snapshot: [1] + Array(bytes.dropFirst()), sessions: SessionOptions())
        }
    }

    @Test func outstandingRequestsForgetWhatTheClientFinished() {
        var pending = OutstandingRequests()
        let taken = [request(2, 1, .get(key: "k")), request(1, 3, .get(key: "k")), request(1, 2, .get(key: "k")), request(1, 3, .get(key: "k"))]
            .map { pending.insert($0) }
        #expect(taken == [true, true, true, false], "a retry is already outstanding")
        #expect(pending.all.map { "\($0.client)#\($0.sequence)" } == ["c1#2", "c1#3", "c2#1"])
        let newer = pending.insert(request(1, 4, .get(key: "k"), acked: 2))
        #expect(newer)
        #expect(pending.all.map { "\($0.client)#\($0.sequence)" } == ["c1#3", "c1#4", "c2#1"], "2 is finished for the client")
        let removed = [pending.remove(request(1, 3, .get(key: "k"))), pending.remove(request(1, 3, .get(key: "k")))]
        #expect(removed == [true, false])
        pending.removeAll()
        #expect(pending.all.isEmpty)
    }

    @Test func sessionOptionsAreValidated() throws {
        var options = SessionOptions()
        let applied = [try options.set("sessionTimeout", to: .string("10m")), try options.set("sessionResults", to: .number(8)),
                       try options.set("heartbeat", to: .string("1s"))]
        #expect(applied == [true, true, false], "heartbeat is not a session option")
        #expect(options.timeout == .seconds(600) && options.maxResults == 8)
        #expect(throws: OptionError.self) { try options.set("sessionTimeout", to: .string("0ms")) }
        #expect(throws: OptionError.self) { try options.set("sessionTimeout", to: .string("400m")) }
        #expect(throws: OptionError.self) { try options.set("sessionResults", to: .number(0)) }
    }
}
