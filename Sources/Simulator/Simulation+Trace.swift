import ConsensusCore

/// The simulator's side of a message trace (`SimulationConfig.messageTrace`): what the network
/// did with each message between nodes. Called only while tracing, and reads state without
/// drawing randomness, so a traced run makes the same events as an untraced one.
extension Simulation {
    /// A message left `from` for `to`; the network delivers its copies at `arrivals` (none: lost,
    /// or blocked by a cut link).
    func traceSending(_ message: Backend.Message, from: Int, to: Int, at departure: Instant, arrivals: [Instant]) {
        tracer?.sent(from: cluster[from], to: cluster[to], kind: message.kind.rawValue, detail: { MessageTracer.detail(message) }, at: departure,
                     arrivals: arrivals, fate: network.canReach(from, to) ? .lost : .blocked, link: from * config.nodes + to)
    }

    /// A copy reaches `to` now: delivered, or dropped by a cut or because `to` is down.
    func traceArrival(_ message: Backend.Message, from: Int, to: Int) {
        let fate: TracedMessage.Fate = !network.canReach(from, to) ? .cut(now) : nodes[to].isUp ? .delivered(now) : .receiverDown(now)
        tracer?.arrived(kind: message.kind.rawValue, link: from * config.nodes + to, at: now, fate: fate)
    }
}
