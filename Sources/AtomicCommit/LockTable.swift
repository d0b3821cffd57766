import ConsensusCore

/// Strict two-phase locking on keys, one holder per key.
///
/// A participant that voted YES must be able to commit whatever else happens, so it keeps the key
/// from every other transaction until it learns the outcome (Gray & Lamport 2006, §3). A vote
/// request for a locked key is answered NO instead of queued ("no-wait"), so transactions never
/// wait for one another and cannot deadlock. Reads do wait: a read of a key that an undecided
/// transaction holds is served once the decision is applied, since the value it would return may be
/// about to change (and may already have changed at other replicas).
package struct LockTable: Sendable {
    package private(set) var holders: [String: TransactionID] = [:]
    private var parked: [String: [ClientRequest]] = [:]

    package init() {}

    package func holder(of key: String) -> TransactionID? { holders[key] }

    mutating func acquire(_ key: String, for transaction: TransactionID) {
        holders[key] = transaction
    }

    /// Releases `key` if `transaction` holds it; returns the reads that waited for it.
    mutating func release(_ key: String, by transaction: TransactionID) -> [ClientRequest] {
        guard holders[key] == transaction else { return [] }
        holders[key] = nil
        return parked.removeValue(forKey: key) ?? []
    }

    /// Parks a read of a locked key. A client's retry replaces its earlier copy, so a read that
    /// waits long is answered once.
    mutating func park(_ read: ClientRequest) {
        var queue = parked[read.command.key, default: []]
        queue.removeAll { $0.client == read.client }
        queue.append(read)
        parked[read.command.key] = queue
    }

    /// Reads waiting for a lock, over all keys.
    package var parkedReads: Int { parked.values.reduce(0) { $0 + $1.count } }
}
