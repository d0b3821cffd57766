import ConsensusCore

/// Exactly-once bookkeeping per client, without registration and without unbounded growth (Raft
/// thesis §6.3; RIFL, Lee et al., SOSP 2015).
///
/// A session opens with the first request of a client the table does not know (clients mint their
/// own ids), keeps a record — the answer, or what is under way — for each request above the
/// client's watermark, and ends when it has been idle for `options.timeout`. Time comes only from
/// the stamps of the requests admitted: `clock` is the latest stamp seen and never goes back (the
/// nodes that stamp may disagree about the time), and a session expires once `clock` has moved more
/// than the timeout past its last request. Replicas that admit the same requests in the same order
/// hold equal tables; none of this reads a clock of its own.
public struct SessionTable<Record: Equatable & Sendable>: Equatable, Sendable {
    public struct Session: Equatable, Sendable {
        /// The highest `ackedThrough` the client sent, or past which an answer was dropped: requests
        /// at or below it have no record and are refused.
        public internal(set) var watermark: UInt64
        /// `clock` when the client last sent a request.
        public internal(set) var lastActive: Instant
        /// Records of requests above `watermark`, by ascending sequence.
        public internal(set) var records: [Entry]

        /// The record of request `sequence`, if the session holds one.
        func record(for sequence: UInt64) -> Record? {
            let position = position(of: sequence)
            return position < records.count && records[position].sequence == sequence ? records[position].record : nil
        }

        /// Where `sequence` is or would go in `records` (binary search: the list is sorted).
        func position(of sequence: UInt64) -> Int {
            var low = 0, high = records.count
            while low < high {
                let middle = (low + high) / 2
                if records[middle].sequence < sequence { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// A request of the client arrived at `clock`: the client is active, done with everything
        /// up to its watermark, and this is what the request meets.
        mutating func admit(_ request: ClientRequest, at clock: Instant, in slot: Slot) -> Admission {
            lastActive = clock
            acknowledge(through: request.ackedThrough)
            if let record = record(for: request.sequence) { return .cached(record) }
            return request.sequence <= watermark ? .superseded : .new(slot)
        }

        /// The client is done with everything up to `acknowledged`: its records go.
        mutating func acknowledge(through acknowledged: UInt64) {
            guard acknowledged > watermark else { return }
            watermark = acknowledged
            var finished = 0
            while finished < records.count, records[finished].sequence <= acknowledged { finished += 1 }
            // Usually the one record goes (one request at a time): the buffer stays for the next.
            if finished == 1, records.count == 1 { records.removeLast() } else { records.removeFirst(finished) }
        }

        /// Records `record` for `sequence` (replacing what was there); keeps at most `limit`
        /// records by dropping the oldest and raising the watermark past it.
        mutating func store(_ record: Record, for sequence: UInt64, limit: Int) {
            let position = position(of: sequence)
            if position < records.count, records[position].sequence == sequence {
                records[position].record = record
                return
            }
            if position == records.count {
                records.append(Entry(sequence: sequence, record: record))  // the usual case: a new, highest sequence
            } else {
                records.insert(Entry(sequence: sequence, record: record), at: position)
            }
            if records.count > limit { acknowledge(through: records[records.count - limit - 1].sequence) }
        }
    }

    public struct Entry: Equatable, Sendable {
        public var sequence: UInt64
        public var record: Record
    }

    /// Where the record of an admitted request goes: `record(_:in:)` finds it without a second
    /// lookup, as long as no session was opened or closed since.
    public struct Slot: Equatable, Sendable {
        let index: Dictionary<ClientID, Session>.Index
    }

    /// What the table says about a request it is asked to admit.
    public enum Admission: Equatable, Sendable {
        /// Not seen before: carry it out and `record` the outcome.
        case new(Slot)
        /// Seen before: this is what it came to (a retry gets the first answer).
        case cached(Record)
        /// At or below the client's watermark with no record: the client had finished with it.
        case superseded
        /// The client says it has a session (`established`) that the table does not hold, or its
        /// session was idle for longer than the timeout.
        case expired
    }

    public let options: SessionOptions
    public internal(set) var sessions: [ClientID: Session] = [:]
    /// The latest stamp admitted.
    public internal(set) var clock = Instant.zero

    public init(options: SessionOptions) { self.options = options }

    /// The table with only the sessions of the clients `isIncluded` keeps.
    public func keeping(_ isIncluded: (ClientID) -> Bool) -> SessionTable {
        var kept = self
        kept.sessions = sessions.filter { isIncluded($0.key) }
        return kept
    }

    /// Classifies `request`, stamped `stamp` by the node that ordered it, and notes what it tells
    /// about its client: the client is active now, and done with everything up to `ackedThrough`.
    /// An unknown client that is not `established` gets a new session.
    public mutating func admit(_ request: ClientRequest, at stamp: Instant) -> Admission {
        advance(to: stamp)
        // Found once by index and changed in place: one hash per request, and the session's
        // records are not copied.
        let index: Dictionary<ClientID, Session>.Index
        if let found = sessions.index(forKey: request.client) {
            guard clock - sessions.values[found].lastActive <= options.timeout else {
                sessions.remove(at: found)
                return .expired
            }
            index = found
        } else {
            if request.established { return .expired }
            index = open(request.client)
        }
        return sessions.values[index].admit(request, at: clock, in: Slot(index: index))
    }

    /// Records what the request admitted `.new` in `slot` came to. The slot must be the latest
    /// `admit`'s, with no session opened or closed since.
    public mutating func record(_ record: Record, for request: ClientRequest, in slot: Slot) {
        sessions.values[slot.index].store(record, for: request.sequence, limit: options.maxResults)
    }

    /// Opens a session for `client`, idle as of now.
    private mutating func open(_ client: ClientID) -> Dictionary<ClientID, Session>.Index {
        sessions[client] = Session(watermark: 0, lastActive: clock, records: [])
        return sessions.index(forKey: client)!
    }

    /// Records what `request` (admitted `.new`) came to, or replaces its record (an atomic-commit
    /// transaction's answer replaces its pending mark). Nothing happens once the session has
    /// expired or the client has finished with the request.
    public mutating func record(_ record: Record, for request: ClientRequest) {
        guard let index = sessions.index(forKey: request.client), request.sequence > sessions.values[index].watermark else { return }
        sessions.values[index].store(record, for: request.sequence, limit: options.maxResults)
    }

    /// Records what `request` came to while replaying a log that holds it. The log proves the
    /// request was admitted as new when it was written, so its session is opened if the table
    /// does not hold it (the answers that made the client `established` may not have been
    /// logged), then touched at `stamp` as `admit` would have.
    public mutating func restore(_ record: Record, for request: ClientRequest, at stamp: Instant) {
        advance(to: stamp)
        let index = sessions.index(forKey: request.client) ?? open(request.client)
        _ = sessions.values[index].admit(request, at: clock, in: Slot(index: index))
        self.record(record, for: request)
    }

    /// Moves the clock to `stamp` if that is later. Idle sessions are dropped in a sweep each time
    /// the clock enters a new period of `timeout` length, so memory holds the sessions active in
    /// the last two timeouts at most; one idle past its timeout and not swept yet is expired all
    /// the same when its client comes back (`admit`). Both depend on the stamps alone.
    mutating func advance(to stamp: Instant) {
        guard stamp > clock else { return }
        let period = max(options.timeout.microseconds, 1)
        let sweep = stamp.microseconds / period != clock.microseconds / period
        clock = stamp
        if sweep { sessions = sessions.filter { clock - $0.value.lastActive <= options.timeout } }
    }
}

extension SessionTable {
    /// Takes in another table's sessions: a bucket's new owner takes the old owner's sessions with
    /// the data (6.824's shardkv moves the duplicate table with the shard), so that a retry of a
    /// request the old owner applied is answered from its record there, not applied a second time.
    /// Per client the later watermark and activity win, records are united (this table's where both
    /// hold one), and the table keeps its bound on records per client.
    public mutating func merge(_ other: SessionTable) {
        clock = max(clock, other.clock)
        for (client, incoming) in other.sessions {
            guard var session = sessions[client] else {
                sessions[client] = incoming
                continue
            }
            session.lastActive = max(session.lastActive, incoming.lastActive)
            for entry in incoming.records where session.record(for: entry.sequence) == nil && entry.sequence > session.watermark {
                session.store(entry.record, for: entry.sequence, limit: options.maxResults)
            }
            session.acknowledge(through: incoming.watermark)
            sessions[client] = session
        }
    }
}
