import Testing
@testable import Sharding

/// MIT 6.824 lab 4A (shardctrler), ported with its constants (10 shards) to the metaserver's state
/// machine: the command sequences of TestBasic and TestMulti and their checks. The lab runs them
/// through a Raft-replicated service with concurrent clerks; here one client applies them in one
/// order, which is what every replica sees once Raft has ordered them.
@Suite struct ConfigurationChainTests {
    static let buckets = 10

    func group(_ id: Int) -> GroupID { GroupID(id) }

    /// 6.824's `check`: exactly these groups, every bucket served by one of them, counts within one.
    func check(_ chain: ConfigurationChain, groups expected: [Int], _ context: String = "") {
        let latest = chain.latest
        #expect(Set(latest.groups.keys) == Set(expected.map(group)), "\(context): groups \(latest.groups.keys.sorted())")
        guard !expected.isEmpty else {
            #expect(latest.owners.allSatisfy { $0 == nil }, "\(context): buckets served with no group")
            return
        }
        #expect(latest.owners.allSatisfy { $0.map { latest.groups[$0] != nil } ?? false }, "\(context): a bucket without a live group")
        let counts = latest.bucketsByGroup.values.map(\.count)
        #expect(counts.max()! <= counts.min()! + 1, "\(context): unbalanced \(latest.bucketsByGroup)")
    }

    func query(_ chain: inout ConfigurationChain, _ number: Int? = nil) -> ShardConfiguration {
        guard case .success(let found) = chain.apply(.query(number)) else { preconditionFailure("a query is never refused") }
        return found
    }

    @Test func basicLeaveJoinAndHistoricalQueries() {
        var chain = ConfigurationChain(buckets: Self.buckets)
        var seen = [query(&chain)]
        check(chain, groups: [], "empty")
        chain.apply(.join([group(1): ["x", "y", "z"]]))
        check(chain, groups: [1], "join 1")
        seen.append(query(&chain))
        chain.apply(.join([group(2): ["a", "b", "c"]]))
        check(chain, groups: [1, 2], "join 2")
        seen.append(query(&chain))
        #expect(chain.latest.groups[group(1)] == ["x", "y", "z"])
        #expect(chain.latest.groups[group(2)] == ["a", "b", "c"])
        chain.apply(.leave([group(1)]))
        check(chain, groups: [2], "leave 1")
        seen.append(query(&chain))
        chain.apply(.leave([group(2)]))
        check(chain, groups: [], "leave 2")
        seen.append(query(&chain))
        // Historical queries: each number answers what it answered then; later numbers, the latest.
        for version in seen { #expect(query(&chain, version.number) == version) }
        #expect(query(&chain, 1_000) == chain.latest)
        #expect(seen.map(\.number) == [0, 1, 2, 3, 4])
    }

    @Test func moveAssignsOneBucketAndBumpsTheNumber() {
        var chain = ConfigurationChain(buckets: Self.buckets)
        chain.apply(.join([group(503): ["3a", "3b", "3c"]]))
        chain.apply(.join([group(504): ["4a", "4b", "4c"]]))
        for index in 0..<Self.buckets {
            let before = chain.latest.number
            let target = index < Self.buckets / 2 ? group(503) : group(504)
            #expect(chain.apply(.move(Bucket(index), to: target)) == .success(chain.latest))
            #expect(chain.latest.number == before + 1, "Move should increase the configuration number")
        }
        for index in 0..<Self.buckets {
            #expect(chain.latest.owner(of: Bucket(index)) == (index < Self.buckets / 2 ? group(503) : group(504)))
        }
        #expect(chain.apply(.move(Bucket(Self.buckets), to: group(503))) == .failure(ConfigurationRefusal.noSuchBucket(Bucket(Self.buckets))))
        #expect(chain.apply(.move(Bucket(0), to: group(9))) == .failure(ConfigurationRefusal.noSuchGroup(group(9))))
        chain.apply(.leave([group(503)]))
        chain.apply(.leave([group(504)]))
        check(chain, groups: [], "after both left")
    }

    /// TestBasic's "Concurrent leave/join": ten clerks each join gid+1000, join gid, leave
    /// gid+1000; here their operations interleaved round robin, one order Raft could have chosen.
    @Test func interleavedLeaveJoin() {
        var chain = ConfigurationChain(buckets: Self.buckets)
        let gids = (0..<10).map { $0 * 10 + 100 }
        for step in 0..<3 {
            for gid in gids {
                switch step {
                case 0: chain.apply(.join([group(gid + 1_000): ["s\(gid)a"]]))
                case 1: chain.apply(.join([group(gid): ["s\(gid)b"]]))
                default: chain.apply(.leave([group(gid + 1_000)]))
                }
                let live = chain.latest.groups.count
                check(chain, groups: chain.latest.groups.keys.map(\.rawValue), "after \(live) groups")
            }
        }
        check(chain, groups: gids, "ten groups")
    }

    /// "Minimal transfers after joins / leaves", single and multi: a bucket a group kept serving
    /// never moved, and after the newcomers leave every bucket is back where it was.
    @Test(arguments: [false, true])
    func minimalTransfers(multi: Bool) {
        var chain = ConfigurationChain(buckets: Self.buckets)
        let old = (0..<10).map { $0 * 10 + 100 }
        for gid in old { chain.apply(.join([group(gid): ["s\(gid)"]])) }
        let before = chain.latest
        let newcomers = (11...15).map(group)
        if multi {
            chain.apply(.join(Dictionary(uniqueKeysWithValues: newcomers.map { ($0, ["\($0)a", "\($0)b"]) })))
        } else {
            for gid in newcomers { chain.apply(.join([gid: ["\(gid)a", "\(gid)b"]])) }
        }
        let joined = chain.latest
        for index in 0..<Self.buckets where old.map(group).contains(joined.owners[index]!) {
            #expect(before.owners[index] == joined.owners[index], "non-minimal transfer after Join()s: bucket \(index)")
        }
        if multi { chain.apply(.leave(newcomers)) } else { for gid in newcomers { chain.apply(.leave([gid])) } }
        let left = chain.latest
        for index in 0..<Self.buckets where old.map(group).contains(joined.owners[index]!) {
            #expect(left.owners[index] == joined.owners[index], "non-minimal transfer after Leave()s: bucket \(index)")
        }
        check(chain, groups: old, "after the newcomers left")
    }

    /// TestMulti: groups joining and leaving several at a time, servers kept per group.
    @Test func multiGroupJoinLeave() {
        var chain = ConfigurationChain(buckets: Self.buckets)
        chain.apply(.join([group(1): ["x", "y", "z"], group(2): ["a", "b", "c"]]))
        check(chain, groups: [1, 2], "multi join")
        chain.apply(.join([group(3): ["j", "k", "l"], group(4): ["m"], group(5): ["n", "o"]]))
        check(chain, groups: [1, 2, 3, 4, 5], "second multi join")
        #expect(chain.latest.groups[group(5)] == ["n", "o"])
        chain.apply(.leave([group(1), group(3)]))
        check(chain, groups: [2, 4, 5], "multi leave")
        chain.apply(.leave([group(2), group(4), group(5)]))
        check(chain, groups: [], "all left")
        #expect(chain.apply(.join([group(6): []])) == .failure(ConfigurationRefusal.noServers(group(6))))
    }

    /// Every replica computes the same table from the same commands, whatever order a join's
    /// groups come in (a dictionary's order differs from process to process).
    @Test func replicasAgree() {
        let groups = (1...7).map { (group($0), ["s\($0)"]) }
        var first = ConfigurationChain(buckets: 16), second = ConfigurationChain(buckets: 16)
        first.apply(.join(Dictionary(uniqueKeysWithValues: groups)))
        second.apply(.join(Dictionary(uniqueKeysWithValues: groups.reversed())))
        first.apply(.leave([group(3), group(5)]))
        second.apply(.leave([group(5), group(3)]))
        #expect(first == second)
    }

    /// Random sequences of joins, leaves and moves over 16 buckets: after each join or leave the
    /// table is balanced, and no balanced table was reachable with fewer buckets changing group.
    /// The fewest: every bucket whose group left (or that had none) must move, and of the groups
    /// that stay each keeps at most its share — ⌊16/g⌋, or one more for `16 mod g` of them, best
    /// given to the groups holding more than ⌊16/g⌋.
    @Test func randomSequencesStayBalancedAndMoveAsLittleAsPossible() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<200 {
            var chain = ConfigurationChain(buckets: 16)
            for _ in 0..<30 {
                let before = chain.latest
                let present = before.groups.keys.sorted()
                switch next(3) {
                case 0: chain.apply(.join([group(next(40) + 1): ["s"]]))
                case 1 where !present.isEmpty: chain.apply(.leave([present[next(present.count)]]))
                default:
                    if !present.isEmpty { chain.apply(.move(Bucket(next(16)), to: present[next(present.count)])) }
                    continue
                }
                check(chain, groups: chain.latest.groups.keys.map(\.rawValue), "random")
                let after = chain.latest
                guard !after.groups.isEmpty else { continue }
                let base = 16 / after.groups.count, extra = 16 % after.groups.count
                let held = before.bucketsByGroup.filter { after.groups[$0.key] != nil }.values.map(\.count)
                let keptAtMost = held.reduce(0) { $0 + min($1, base) } + min(extra, held.filter { $0 > base }.count)
                let moved = (0..<16).filter { before.owners[$0] != after.owners[$0] }.count
                #expect(moved == 16 - keptAtMost, "moved \(moved), the fewest possible \(16 - keptAtMost)")
            }
        }
    }
}

@Suite struct BucketTests {
    @Test func aKeyAlwaysMapsToTheSameBucketAndKeysSpreadEvenly() {
        #expect(Bucket.of(key: "k42", count: 16) == Bucket.of(key: "k42", count: 16))
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c.
        #expect(Bucket.of(key: "a", count: 1_000) == Bucket(Int(UInt64(0xaf63_dc4c_8601_ec8c) % 1_000)))
        var counts = [Int](repeating: 0, count: 16)
        for index in 0..<16_000 { counts[Bucket.of(key: "k\(index)", count: 16).index] += 1 }
        #expect(counts.allSatisfy { (800...1_200).contains($0) }, "\(counts)")
    }
}
