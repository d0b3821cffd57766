/// How the metaserver spreads buckets over groups when groups join or leave: as evenly as
/// possible (bucket counts per group differ by at most one) with as few buckets moving as possible,
/// and deterministically, since every replica of the metaserver computes it on its own and must
/// reach the same table (6.824 lab 4A states all three requirements).
///
/// Each group's target is ⌊buckets / groups⌋, and one more for `buckets mod groups` of them; the
/// extra ones go to the groups already serving the most, so that no group gives up a bucket it
/// would have to take back. Then only two kinds of bucket move: those whose group left (or that
/// never had one) and a group's buckets beyond its target. Any balanced table must move at least
/// those, so the count is minimal. Ties break by group number and bucket index.
enum Rebalancing {
    static func balanced(_ owners: [GroupID?], among groups: [GroupID]) -> [GroupID?] {
        guard !groups.isEmpty else { return Array(repeating: nil, count: owners.count) }
        let members = Set(groups)
        var served = Dictionary(uniqueKeysWithValues: groups.map { ($0, [Int]()) })
        var free: [Int] = []
        for (index, owner) in owners.enumerated() {
            if let owner, members.contains(owner) { served[owner]!.append(index) } else { free.append(index) }
        }
        let targets = self.targets(served.mapValues(\.count), buckets: owners.count)
        var result = owners
        // Give up what lies beyond the target, last buckets first.
        for group in groups.sorted() where served[group]!.count > targets[group]! {
            free += served[group]!.suffix(served[group]!.count - targets[group]!)
        }
        free.sort()
        var next = 0
        for group in groups.sorted() {
            for _ in 0..<max(0, targets[group]! - served[group]!.count) {
                result[free[next]] = group
                next += 1
            }
        }
        return result
    }

    /// Per group, how many buckets it serves once balanced.
    static func targets(_ counts: [GroupID: Int], buckets: Int) -> [GroupID: Int] {
        let base = buckets / counts.count, extra = buckets % counts.count
        let byLoad = counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }
        var targets: [GroupID: Int] = [:]
        for (rank, group) in byLoad.enumerated() { targets[group] = base + (rank < extra ? 1 : 0) }
        return targets
    }
}
