import ConsensusCore

/// Client commands a node refused as leader at its admission bound (`maxUncommitted`). Their
/// clients were told the command took no effect, so a late copy of one — a retry already on its
/// way, a duplicate the network made — must be refused too, never appended: a copy admitted once
/// the leader had room again would take effect after the refusal (the lab's checker saw exactly
/// that). A refusal is forgotten once the state machine has applied a later request by which the
/// client says it is done with it: from then on the store itself answers any copy `superseded`.
///
/// Memory is per node and volatile, as etcd's dropped proposals are: a copy that reaches another
/// leader, or this node after a restart, within a message's flight is not recognised.
struct RefusedProposals: Sendable {
    /// Refused sequence numbers per client; a client without any has no entry.
    private var sequences: [ClientID: Set<UInt64>] = [:]

    mutating func insert(_ request: ClientRequest) { sequences[request.client, default: []].insert(request.sequence) }

    func contains(_ request: ClientRequest) -> Bool { sequences[request.client]?.contains(request.sequence) ?? false }

    /// The store applied a request of `client` saying it is done with everything through
    /// `acknowledged`: refusals up to there are the store's to answer now.
    mutating func forget(_ client: ClientID, through acknowledged: UInt64) {
        guard let index = sequences.index(forKey: client) else { return }
        sequences.values[index] = sequences.values[index].filter { $0 > acknowledged }
        if sequences.values[index].isEmpty { sequences.remove(at: index) }
    }
}
