import ConsensusCore

/// A transaction this node is not finished with: undecided (it holds the key's lock), or decided
/// here and still waiting for the other nodes to acknowledge.
package struct Transaction<Message: Sendable>: Sendable {
    package let id: TransactionID
    /// The client's write, carried to every participant (write-all: every node applies it).
    package let request: ClientRequest
    package internal(set) var state: TransactionState
    /// The question this node is asking every other node, as coordinator or decider.
    package internal(set) var round: Round<Message>?
    /// When this node acts on its own: a participant's timeout, an in-doubt participant's next
    /// question, the end of a termination protocol's collection.
    package internal(set) var timer: Instant?
    /// Rebuilt from the log by a restart and not yet resumed by the protocol.
    package internal(set) var recovered = false

    init(id: TransactionID, request: ClientRequest, state: TransactionState, timer: Instant? = nil) {
        self.id = id
        self.request = request
        self.state = state
        self.timer = timer
    }

    var key: String { request.command.key }

    var deadline: Instant? {
        guard let round else { return timer }
        return timer.map { min($0, round.deadline) } ?? round.deadline
    }
}

/// One round of write-all bookkeeping: a message to every other node and who has not answered.
package struct Round<Message: Sendable>: Sendable {
    /// What the silent nodes are sent again every `CommitTiming.retransmit`.
    package let message: Message
    package private(set) var pending: [NodeID]
    /// When the round gives up, which aborts the transaction (missing votes, 3PC's missing
    /// PreCommit acknowledgements); `nil` for a decision, re-sent until every node acknowledges.
    package let expires: Instant?
    var resendAt: Instant
    /// Time until the next re-send. A round that never expires backs off, doubling up to 32 times
    /// the first interval, so that a decision owed to a node that is down for long costs few messages.
    var interval: TimeSpan

    init(message: Message, pending: [NodeID], expires: Instant?, resendAt: Instant, interval: TimeSpan) {
        self.message = message
        self.pending = pending
        self.expires = expires
        self.resendAt = resendAt
        self.interval = interval
    }

    mutating func answered(by node: NodeID) { pending.removeAll { $0 == node } }

    /// Re-sent at `now`: schedules the next re-send.
    mutating func resent(at now: Instant, first: TimeSpan) {
        if expires == nil { interval = min(interval * 2, first * 32) }
        resendAt = now + interval
    }

    var deadline: Instant { expires.map { min($0, resendAt) } ?? resendAt }
}
