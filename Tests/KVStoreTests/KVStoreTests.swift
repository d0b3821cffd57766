import ConsensusCore
import KVStore
import Testing

@Suite struct KVStoreTests {
    func request(_ client: Int, _ sequence: UInt64, _ command: Command) -> ClientRequest {
        ClientRequest(client: ClientID(client), sequence: sequence, command: command)
    }

    @Test func commandsBehaveAsAMap() {
        var store = KVStore()
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
        var store = KVStore()
        let append = request(1, 1, .append(key: "k", value: "x"))
        let first = store.apply(append)
        for _ in 0..<5 { #expect(store.apply(append) == first) }
        #expect(store.read("k") == "x")
        let cas = request(1, 2, .cas(key: "k", expected: "x", value: "y"))
        #expect(store.apply(cas) == .ok(.done))
        // The duplicate of a successful cas must not report the mismatch it would now cause.
        #expect(store.apply(cas) == .ok(.done))
        #expect(store.read("k") == "y")
        // Another client's requests are independent.
        #expect(store.apply(request(2, 1, .append(key: "k", value: "z"))) == .ok(.done))
        #expect(store.read("k") == "yz")
    }

    @Test func anOlderRequestArrivingLateIsRefusedNotApplied() {
        var store = KVStore()
        _ = store.apply(request(1, 5, .put(key: "k", value: "new")))
        #expect(store.apply(request(1, 4, .put(key: "k", value: "old"))) == .rejected(.superseded))
        #expect(store.read("k") == "new")
        #expect(store.cachedReply(for: request(1, 4, .get(key: "k"))) == .rejected(.superseded))
        #expect(store.cachedReply(for: request(1, 6, .get(key: "k"))) == nil)
    }

    @Test func snapshotsRoundTripWithSessionsAndAreCanonical() throws {
        var a = KVStore(), b = KVStore()
        let requests = (1...20).map { request($0 % 3, UInt64($0), .append(key: "k\($0 % 4)", value: "\($0)")) }
        for r in requests { _ = a.apply(r) }
        for r in requests.sorted(by: { $0.command.key < $1.command.key }) { _ = b.apply(r) }
        let restored = try KVStore(snapshot: a.snapshot())
        #expect(restored == a)
        var replay = restored
        #expect(replay.apply(requests.last!) == a.cachedReply(for: requests.last!))
        #expect(KVStore().snapshot() == KVStore().snapshot())
        let bytes = a.snapshot()
        #expect(throws: BinaryDecodingError.self) { try KVStore(snapshot: Array(bytes.dropLast())) }
        #expect(throws: BinaryDecodingError.self) { try KVStore(snapshot: bytes + [0]) }
    }
}
