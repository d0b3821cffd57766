import ConsensusCore
import Simulator

/// The faults the runner of `conlab run --real` set in a node over its admin channel: cut links,
/// dropped message kinds, the backend's clock rate, added processing time. They live in the
/// process, so a restart clears them; the runner sets them again.
struct InjectedFaults {
    /// Peers this node's messages do not reach (a partition or a one-way cut, seen from here).
    var cut: Set<NodeID> = []
    /// Message kinds dropped per peer.
    var dropped: [NodeID: Set<String>] = [:]
    /// How frames to each peer travel (latency, loss, duplication, reordering); none: as they come.
    var links: [NodeID: LinkProfile] = [:]
    /// Per peer, the latest delivery time given to a frame, for FIFO order (`NetworkModel.transmit`).
    var lastDelivery: [NodeID: Int64] = [:]
    var random = DeterministicRandom(seed: .random(in: 0 ... .max), label: "links")
    /// The backend's own clock: at a rate other than 1 its timers fire late or early.
    var clock = NodeClock()
    /// Processing time each input costs on top of its own.
    var slowDelay: TimeSpan = .zero
    /// Event triggers the runner armed, by fault step: at a matching event the node stops itself
    /// (`NodeServer.stopIfTriggered`) so that the runner applies the step at that exact event.
    var armed: [Int: Trigger.Event] = [:]
    /// Whether observations are kept for the runner (only once it asked: a node nobody
    /// observes keeps nothing).
    var recording = false
    /// Observations not yet acknowledged by the runner; the first is number `firstObservation`
    /// (counted from the process's start), so that an answer lost on the way (an admin call that
    /// timed out under load) is sent again rather than forgotten.
    var observations: [JSONValue] = []
    var firstObservation = 0

    /// The observations from number `from` on, after forgetting the ones before it (the runner
    /// has them): the number of the first one returned, and them.
    mutating func observations(from: Int) -> (first: Int, items: [JSONValue]) {
        let acknowledged = min(max(from - firstObservation, 0), observations.count)
        observations.removeFirst(acknowledged)
        firstObservation += acknowledged
        return (firstObservation, observations)
    }

    /// Whether a frame to `peer` is lost: a cut, or a message kind dropped on that link.
    func blocks(to peer: NodeID, kind: String? = nil) -> Bool {
        if cut.contains(peer) { return true }
        guard let kind, let kinds = dropped[peer] else { return false }
        return kinds.contains(kind)
    }

    /// The armed step (the lowest) that `event` matches, as the simulator matches triggers.
    func armedStep(matching event: Trigger.Event) -> Int? {
        armed.filter { _, wanted in
            switch (wanted, event) {
            case (.sent(let a), .sent(let b)), (.received(let a), .received(let b)): a == b
            case (.role(let a), .role(let b)): a == b
            case (.committed(let wanted), .committed(let index)): index >= wanted
            default: false
            }
        }.keys.min()
    }

    /// When a frame sent to `peer` now leaves this node: at once without a link profile, else
    /// as the profile draws it (none: lost; two: duplicated).
    mutating func departures(to peer: NodeID, at now: Instant) -> [Instant] {
        guard let profile = links[peer] else { return [now] }
        let deliveries = NetworkModel.transmit(profile: profile, at: now, lastDelivery: &lastDelivery[peer, default: 0], random: &random)
        return [deliveries.first, deliveries.second].compactMap { $0 }
    }

    /// Keeps an observation for `events`, with the machine's monotonic time of the moment.
    mutating func record(_ event: ObservableEvent, at time: Instant) {
        guard recording else { return }
        let t = JSONValue.number(Double(time.microseconds))
        switch event {
        case .role(let role, let term, let name):
            observations.append(.array([.string("role"), t, .string(role.rawValue), .number(Double(term)), .string(name)]))
        case .coordinating:
            observations.append(.array([.string("coordinating"), t]))
        case .decided(let transaction, let commit):
            observations.append(.array([.string("decided"), t, .string(String(transaction)), .bool(commit)]))
        case .prepared(let transaction, let key):
            observations.append(.array([.string("prepared"), t, .string(String(transaction)), .string(key)]))
        case .violation(let violation):
            observations.append(.array([.string("violation"), t, .string(violation.rule.rawValue), .string(violation.detail)]))
        case .note(let kind, let detail):
            observations.append(.array([.string("note"), t, .string(kind), .string(detail)]))
        case .committed:
            break
        }
    }
}
