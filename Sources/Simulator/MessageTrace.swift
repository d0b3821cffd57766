import ConsensusCore

/// Which protocol messages a run records one by one (`conlab replay`): those that travel during
/// `[start, end]`, at most `limit` of them.
///
/// A run counts its messages but does not keep them: a 30-second run sends hundreds of thousands.
/// A run is a pure function of its scenario and seed, so a replay runs it again with this window
/// set; recording draws no randomness and changes no event, so the run is the same run.
public struct MessageTraceWindow: Hashable, Sendable {
    public var start: Instant
    public var end: Instant
    public var limit: Int

    public init(start: Instant, end: Instant, limit: Int) {
        self.start = start
        self.end = end
        self.limit = limit
    }
}

/// One protocol message between two nodes as the network carried it.
public struct TracedMessage: Hashable, Sendable {
    /// What became of the message.
    public enum Fate: Hashable, Sendable {
        /// It reached the receiver at this time.
        case delivered(Instant)
        /// Lost on the way (the link's loss rate, or a `drop` fault for its kind): it never arrives.
        case lost
        /// Dropped as it left: a partition had cut the link.
        case blocked
        /// It arrived at this time on a link a partition had cut since it left, and was dropped.
        case cut(Instant)
        /// It arrived at this time at a node that was down.
        case receiverDown(Instant)
        /// It never arrived: it waited for its sender's disk when the sender crashed, or was still
        /// in flight when the run ended.
        case undelivered
    }

    public var from: NodeID
    public var to: NodeID
    /// The protocol's name for the message's type (`APPEND_ENTRIES`).
    public var kind: String
    /// The message's fields in words, shortened: what a reader hovering over its arrow sees.
    public var detail: String
    /// When it left the sender (after the step's processing time, and its sync when it waits for one).
    public var sent: Instant
    public var fate: Fate
    /// The network's second copy of a message it duplicated.
    public var duplicate: Bool

    /// When it reached the receiver's side, delivered or dropped there; nil when it never did.
    public var arrival: Instant? {
        switch fate {
        case .delivered(let time), .cut(let time), .receiverDown(let time): time
        case .lost, .blocked, .undelivered: nil
        }
    }
}

/// The messages a run recorded in its trace window, in the order they were sent.
public struct MessageTrace: Sendable {
    public var window: MessageTraceWindow
    public var messages: [TracedMessage]
    /// Messages in the window past `window.limit`, counted but not recorded.
    public var omitted: Int
}

/// Records the messages of a trace window while the simulation runs, matching each arrival to
/// the copy the network scheduled (same link and kind; the scheduled arrival time, or the
/// earliest overdue one when the sender's disk held it back).
struct MessageTracer {
    static let detailLength = 160

    var trace: MessageTrace
    /// Per directed link (`from * nodes + to`), indices of recorded messages still on their way.
    private var pending: [Int: [(index: Int, due: Instant)]] = [:]

    init(window: MessageTraceWindow) {
        trace = MessageTrace(window: window, messages: [], omitted: 0)
    }

    private func covers(sent: Instant, arrival: Instant?) -> Bool {
        sent <= trace.window.end && (arrival ?? sent) >= trace.window.start
    }

    /// A message handed to the network at `sent`: `arrivals` are the times the network will
    /// deliver its copies (none: it meets `fate`, lost or blocked); `link` keys the copies for
    /// `arrived`. `detail` is only worked out for a message the window records.
    mutating func sent(from: NodeID, to: NodeID, kind: String, detail: () -> String, at sent: Instant, arrivals: [Instant], fate: TracedMessage.Fate,
                       link: Int) {
        let copies = arrivals.isEmpty ? [nil] : arrivals.map(Optional.some)
        var words: String?
        for (copy, arrival) in copies.enumerated() where covers(sent: sent, arrival: arrival) {
            guard trace.messages.count < trace.window.limit else { trace.omitted += 1; continue }
            words = words ?? detail()
            if let arrival { pending[link, default: []].append((trace.messages.count, arrival)) }
            trace.messages.append(TracedMessage(from: from, to: to, kind: kind, detail: words!, sent: sent,
                                                fate: arrival == nil ? fate : .undelivered, duplicate: copy > 0))
        }
    }

    /// A message reached its receiver's side at `now`, with this fate.
    mutating func arrived(kind: String, link: Int, at now: Instant, fate: TracedMessage.Fate) {
        guard var waiting = pending[link] else { return }
        let candidates = waiting.indices.filter { waiting[$0].due <= now && trace.messages[waiting[$0].index].kind == kind }
        guard let slot = candidates.first(where: { waiting[$0].due == now }) ?? candidates.min(by: { waiting[$0].due < waiting[$1].due }) else { return }
        trace.messages[waiting[slot].index].fate = fate
        waiting.remove(at: slot)
        pending[link] = waiting.isEmpty ? nil : waiting
    }

    static func detail(_ message: some Any) -> String {
        let text = String(describing: message)
        return text.count > detailLength ? String(text.prefix(detailLength - 1)) + "…" : text
    }
}
