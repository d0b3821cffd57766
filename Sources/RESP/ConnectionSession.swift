import ConsensusCore

/// Whose session a connection's data commands belong to, and the numbers they carry.
struct ConnectionSession: Sendable {
    private(set) var client: ClientID
    /// The front end numbers the commands (the connection's own session); false once the client
    /// bound a session of its own with `CONLAB.SESSION` and numbers them itself.
    private(set) var isMinted = true
    /// One of the session's writes was answered `.ok` (or the client said so): the store must
    /// hold the session (`ClientRequest.established`).
    private(set) var established = false
    /// Minted sessions: the next command's number, and the watermark of those answered: every
    /// number at or below `finishedThrough` is answered, and so are those in `finishedAhead`.
    private var next: UInt64 = 1
    private var finishedThrough: UInt64 = 0
    private var finishedAhead: Set<UInt64> = []

    init(minted client: ClientID) {
        self.client = client
    }

    /// Binds the connection to a session the client chose.
    mutating func bind(_ client: ClientID, established: Bool) {
        self.client = client
        self.established = established
        isMinted = false
    }

    /// The request for `command` in the minted session, numbered next.
    mutating func mintRequest(_ command: Command) -> ClientRequest {
        precondition(isMinted, "a session the client chose has no minted numbers")
        defer { next += 1 }
        return ClientRequest(client: client, sequence: next, command: command, ackedThrough: finishedThrough, established: established)
    }

    /// The request for `command` under the numbers the client chose.
    func chosenRequest(_ command: Command, sequence: UInt64, ackedThrough: UInt64) -> ClientRequest {
        ClientRequest(client: client, sequence: sequence, command: command, ackedThrough: ackedThrough, established: established)
    }

    /// Notes that request `sequence` of `client` got its final answer (`status`; `nil` when the
    /// front end gave up waiting): an `.ok` write establishes the session, and in a minted session
    /// the number joins the watermark.
    mutating func finish(client: ClientID, sequence: UInt64, command: Command, status: ReplyStatus?) {
        guard client == self.client else { return }
        if case .ok = status, !command.isRead { established = true }
        guard isMinted else { return }
        if sequence == finishedThrough + 1 && finishedAhead.isEmpty {
            finishedThrough = sequence  // answered in order: no set to keep
            return
        }
        finishedAhead.insert(sequence)
        while finishedAhead.remove(finishedThrough + 1) != nil { finishedThrough += 1 }
    }
}
