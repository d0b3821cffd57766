import ConsensusCore
import KVStore
import Testing
@testable import Sharding

/// The server group's state machine on its own: the rules that keep one writer per bucket, each
/// command's answer out of turn, and what survives a snapshot.
@Suite struct ShardStoreTests {
    let g1 = GroupID(1), g2 = GroupID(2)
    var sequence: UInt64 = 0

    /// Versions 1 (g1 owns all four buckets) and 2 (g2 joined: two buckets move to it).
    var chain: [ShardConfiguration] {
        let one = try! ShardConfiguration.initial(buckets: 4).applying(.join([g1: ["a"]])).get()
        return [one, try! one.applying(.join([g2: ["b"]])).get()]
    }

    mutating func apply(_ command: Command, to store: inout ShardStore, client: Int = 1) -> ReplyStatus {
        sequence += 1
        return store.apply(ClientRequest(client: ClientID(client), sequence: sequence, command: command), at: .zero + .milliseconds(Int64(sequence)))
    }

    mutating func control(_ control: ShardControl, _ store: inout ShardStore) -> ReplyStatus {
        apply(control.command, to: &store, client: 99)
    }

    /// A key of `bucket` among four.
    func key(in bucket: Int) -> String { (0...).lazy.map { "k\($0)" }.first { Bucket.of(key: $0, count: 4).index == bucket }! }

    @Test mutating func configurationsAreAdoptedOneAtATimeAndOnlyOnceEveryBucketHasMoved() {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        #expect(control(.adopt(chain[1]), &store) == .ok(ShardControl.notYet(0)), "version 2 before version 1")
        #expect(control(.adopt(chain[0]), &store) == .ok(.done))
        #expect(store.buckets == Array(repeating: .serving, count: 4), "from no owner: served at once")
        #expect(control(.adopt(chain[0]), &store) == .ok(.done), "again: nothing changes")
        #expect(control(.adopt(chain[1]), &store) == .ok(.done))
        let leaving = store.buckets.indices.filter { store.buckets[$0] == .leaving(since: 2) }
        #expect(leaving.count == 2)
        let three = try! chain[1].applying(.leave([g2])).get()
        #expect(control(.adopt(three), &store) == .ok(ShardControl.notYet(2)), "buckets still on their way")
        for bucket in leaving { #expect(control(.release(Bucket(bucket), number: 2), &store) == .ok(.done)) }
        #expect(control(.adopt(three), &store) == .ok(.done))
    }

    @Test mutating func aBucketMovesWithItsDataAndSessionsAndIsServedByOneGroupAtATime() throws {
        var old = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        var new = ShardStore(group: g2, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &old)
        _ = control(.adopt(chain[0]), &new)
        _ = control(.adopt(chain[1]), &old)
        _ = control(.adopt(chain[1]), &new)
        let moving = try #require(new.buckets.indices.first { if case .pulling = new.buckets[$0] { true } else { false } })
        let key = key(in: moving)
        // Neither group serves the bucket on its way.
        #expect(apply(.put(key: key, value: "x"), to: &old) == .rejected(.wrongGroup))
        #expect(apply(.put(key: key, value: "x"), to: &new) == .rejected(.wrongGroup))
        #expect(control(.install(Bucket(moving), number: 3, BucketHandoff(data: [:], sessions: SessionTable(options: SessionOptions()))), &new)
                == .ok(ShardControl.notYet(2)), "a configuration not reached")
        guard case .ok(.value(let text?)) = control(.export(Bucket(moving), number: 2), &old) else { Issue.record("no export"); return }
        let handoff = try #require(BucketHandoff(text: text, sessions: SessionOptions()))
        #expect(control(.install(Bucket(moving), number: 2, handoff), &new) == .ok(.done))
        #expect(new.buckets[moving] == .serving)
        #expect(control(.install(Bucket(moving), number: 2, handoff), &new) == .ok(.done), "installed twice: nothing changes")
        #expect(control(.release(Bucket(moving), number: 2), &old) == .ok(.done))
        #expect(old.buckets[moving] == .absent && old.data.keys.allSatisfy { Bucket.of(key: $0, count: 4).index != moving })
        #expect(control(.export(Bucket(moving), number: 2), &old) == .ok(.value(nil)), "released: the new owner has it")
    }

    /// A bucket's handoff carries the sessions of clients that chose their ids, never those a node
    /// minted for a connection: another cluster's nodes mint the same ids, and the new owner would
    /// answer one of its own connections with another client's reply.
    @Test mutating func aHandoffCarriesChosenSessionsOnly() throws {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &store)
        let minted = ClientID.maximumChosen + 7
        #expect(ClientID(minted).isMintedByConnection && !ClientID(5).isMintedByConnection)
        let leaving = try #require(chain[1].owners.indices.first { chain[1].owners[$0] != g1 })
        #expect(apply(.put(key: key(in: leaving), value: "a"), to: &store, client: 5) == .ok(.done))
        #expect(apply(.put(key: key(in: leaving), value: "b"), to: &store, client: minted) == .ok(.done))
        _ = control(.adopt(chain[1]), &store)
        guard case .ok(.value(let text?)) = control(.export(Bucket(leaving), number: 2), &store) else { Issue.record("no export"); return }
        let handoff = try #require(BucketHandoff(text: text, sessions: SessionOptions()))
        #expect(handoff.sessions.sessions[ClientID(5)] != nil && handoff.sessions.sessions[ClientID(minted)] == nil)
        #expect(handoff.data[key(in: leaving)] == "b", "the data goes whoever wrote it")
    }

    @Test mutating func aRetryOfARequestAppliedBeforeItsBucketLeftKeepsItsAnswer() throws {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &store)
        _ = control(.adopt(chain[1]), &store)
        let leaving = try #require(store.buckets.indices.first { store.buckets[$0] == .leaving(since: 2) })
        // Rebuild: the request applied while the bucket was served, then the bucket left.
        var fresh = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &fresh)
        let request = ClientRequest(client: ClientID(5), sequence: 1, command: .append(key: key(in: leaving), value: "a"))
        #expect(fresh.apply(request, at: .zero + .seconds(1)) == .ok(.done))
        _ = control(.adopt(chain[1]), &fresh)
        #expect(fresh.apply(request, at: .zero + .seconds(2)) == .ok(.done), "the retry is told it took effect")
        let another = ClientRequest(client: ClientID(5), sequence: 2, command: .append(key: key(in: leaving), value: "b"))
        #expect(fresh.apply(another, at: .zero + .seconds(3)) == .rejected(.wrongGroup))
        #expect(fresh.data[key(in: leaving)] == "a")
    }

    @Test mutating func theReservedKeyHoldsNoDataAndASnapshotKeepsEverything() throws {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        #expect(apply(.put(key: ShardControl.key, value: "zz"), to: &store) == .rejected(.wrongGroup))
        #expect(apply(.get(key: ShardControl.key), to: &store) == .rejected(.wrongGroup))
        _ = control(.adopt(chain[0]), &store)
        for bucket in 0..<4 { _ = apply(.put(key: key(in: bucket), value: "v\(bucket)"), to: &store) }
        _ = control(.adopt(chain[1]), &store)
        let restored = try ShardStore(snapshot: store.snapshot(), group: g1, buckets: 4, sessions: SessionOptions())
        #expect(restored == store)
        #expect(throws: BinaryDecodingError.self) { try ShardStore(snapshot: Array(store.snapshot().dropLast()), group: g1, buckets: 4, sessions: SessionOptions()) }
        #expect(throws: BinaryDecodingError.self) { try ShardStore(snapshot: store.snapshot(), group: g1, buckets: 5, sessions: SessionOptions()) }
    }

    /// A participant's side of two-phase commit: a YES locks the keys until the decision, a NO
    /// says why, an abort leaves a tombstone a late PREPARE meets, and no configuration is adopted
    /// while a transaction holds keys here.
    @Test mutating func aPreparedTransactionLocksItsKeysUntilItsDecision() throws {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &store)
        let (a, b) = (key(in: 0), key(in: 1))
        #expect(apply(.put(key: a, value: "0"), to: &store) == .ok(.done))
        #expect(control(.prepare(transaction: "t1", [.cas(key: a, expected: "0", value: "1"), .put(key: b, value: "1")]), &store) == .ok(.done))
        #expect(control(.prepare(transaction: "t1", [.cas(key: a, expected: "0", value: "1"), .put(key: b, value: "1")]), &store) == .ok(.done), "again: still yes")
        #expect(apply(.put(key: b, value: "x"), to: &store) == .rejected(.unavailable), "a locked key refuses writes")
        #expect(apply(.get(key: a), to: &store) == .ok(.value("0")), "and serves reads of what is committed")
        #expect(control(.prepare(transaction: "t2", [.append(key: a, value: "2")]), &store) == .ok(ShardControl.no("locked")))
        #expect(control(.prepare(transaction: "t3", [.cas(key: b, expected: "zz", value: "3")]), &store) == .ok(ShardControl.no("locked")))
        #expect(control(.adopt(chain[1]), &store) == .ok(ShardControl.notYet(1)), "no new configuration under a held lock")
        let snapshot = try ShardStore(snapshot: store.snapshot(), group: g1, buckets: 4, sessions: SessionOptions())
        #expect(snapshot == store, "prepared transactions and their locks survive a snapshot")
        #expect(control(.commit(transaction: "t1"), &store) == .ok(.done))
        #expect(store.data[a] == "1" && store.data[b] == "1" && store.prepared.isEmpty)
        #expect(control(.prepare(transaction: "t4", [.cas(key: a, expected: "0", value: "4")]), &store) == .ok(ShardControl.no("cas")))
        #expect(control(.abort(transaction: "t5"), &store) == .ok(.done))
        #expect(control(.prepare(transaction: "t5", [.put(key: a, value: "5")]), &store) == .ok(ShardControl.no("aborted")), "presumed abort")
        #expect(control(.adopt(chain[1]), &store) == .ok(.done))
    }

    /// A write refused under a lock took no effect, and stays so: a copy of the same request
    /// ordered after the decision (a retry sent again through another node) is refused too, also
    /// after a snapshot, until the client says it has finished with it.
    @Test mutating func aWriteRefusedUnderALockIsNeverAppliedLater() throws {
        var store = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        _ = control(.adopt(chain[0]), &store)
        let a = key(in: 0)
        #expect(control(.prepare(transaction: "t1", [.put(key: a, value: "t1")]), &store) == .ok(.done))
        let write = ClientRequest(client: ClientID(7), sequence: 3, command: .put(key: a, value: "late"))
        #expect(store.apply(write, at: .zero + .milliseconds(10)) == .rejected(.unavailable))
        #expect(control(.commit(transaction: "t1"), &store) == .ok(.done))
        #expect(store.cachedReply(for: write) == .rejected(.unavailable), "a node answers a retry without ordering it")
        store = try ShardStore(snapshot: store.snapshot(), group: g1, buckets: 4, sessions: SessionOptions())
        #expect(store.apply(write, at: .zero + .milliseconds(20)) == .rejected(.unavailable), "the copy ordered after the lock is gone")
        #expect(store.data[a] == "t1")
        var next = ClientRequest(client: ClientID(7), sequence: 4, command: .put(key: a, value: "next"))
        next.ackedThrough = 3
        #expect(store.apply(next, at: .zero + .milliseconds(30)) == .ok(.done))
        #expect(store.cachedReply(for: write) == .rejected(.superseded), "finished with: forgotten, and superseded from now on")
        let plain = ShardStore(group: g1, buckets: 4, sessions: SessionOptions())
        #expect(try ShardStore(snapshot: plain.snapshot(), group: g1, buckets: 4, sessions: SessionOptions()) == plain)
    }
}
