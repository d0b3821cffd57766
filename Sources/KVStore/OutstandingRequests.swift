import ConsensusCore

/// Requests a node has taken on for their clients and not answered yet — a Raft leader's appended
/// writes, a ZAB node's forwarded writes, a ZAB leader's proposals — so that a retry is not taken on
/// twice and the answer goes out once the request is applied.
///
/// A client may have several requests outstanding. When one arrives, the client's requests at or
/// below its watermark (`ackedThrough`) are forgotten: the client has finished with them and awaits
/// no answer. So each client holds at most what it has in flight (with one request at a time, the
/// latest only), and the whole set is bounded by the clients a node serves.
public struct OutstandingRequests: Sendable {
    /// Ascending sequence numbers per client; a client without any has no entry.
    private var sequences: [ClientID: [UInt64]] = [:]

    public init() {}

    /// Takes `request` on; false if it already was outstanding (a retry). One hash lookup: the
    /// client's list is found by index and changed in place.
    public mutating func insert(_ request: ClientRequest) -> Bool {
        guard let index = sequences.index(forKey: request.client) else {
            sequences[request.client] = [request.sequence]
            return true
        }
        sequences.values[index].removeAll { $0 <= request.ackedThrough }
        let position = sequences.values[index].firstIndex { $0 >= request.sequence } ?? sequences.values[index].count
        guard position == sequences.values[index].count || sequences.values[index][position] != request.sequence else { return false }
        sequences.values[index].insert(request.sequence, at: position)
        return true
    }

    /// Whether `request` was outstanding; it no longer is.
    public mutating func remove(_ request: ClientRequest) -> Bool {
        guard let index = sequences.index(forKey: request.client),
              let position = sequences.values[index].firstIndex(of: request.sequence) else { return false }
        if sequences.values[index].count == 1 {
            sequences.remove(at: index)
        } else {
            sequences.values[index].remove(at: position)
        }
        return true
    }

    public mutating func removeAll() { sequences.removeAll() }

    /// Every outstanding request, by client, then sequence.
    public var all: [(client: ClientID, sequence: UInt64)] {
        sequences.keys.sorted().flatMap { client in sequences[client]!.map { (client, $0) } }
    }
}
