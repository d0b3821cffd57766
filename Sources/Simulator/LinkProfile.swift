import ConsensusCore

/// The behaviour of one directed link: how long messages take and how often they are lost,
/// duplicated or reordered.
public struct LinkProfile: Hashable, Sendable {
    public var latency: LatencyDistribution
    /// Probability that a message is dropped.
    public var loss: Double
    /// Probability that a message is delivered twice (the copy with its own latency).
    public var duplicate: Double
    /// Links are FIFO (like a TCP stream) unless a message is picked for reordering, with this
    /// probability: it then skips the FIFO order and is held back by `reorderDelay` extra.
    public var reorder: Double
    public var reorderDelay: LatencyDistribution

    public init(latency: LatencyDistribution = .uniform(.microseconds(500)...(.microseconds(1_500))), loss: Double = 0,
                duplicate: Double = 0, reorder: Double = 0, reorderDelay: LatencyDistribution? = nil) {
        self.latency = latency
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorderDelay = reorderDelay ?? .uniform(.zero...(latency.mean * 4))
    }

    /// A link between a client and the node it is pinned to: same machine room, reliable.
    public static let local = LinkProfile(latency: .fixed(.microseconds(100)))
}
