/// A replica in the cluster. Ids are 1-based, as in the papers and in scenario files (`n1` … `n5`).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    /// Zero-based position, for indexing per-node arrays.
    @inlinable public var index: Int { rawValue - 1 }

    public var description: String { "n\(rawValue)" }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `count` nodes numbered 1…count.
    public static func cluster(_ count: Int) -> [NodeID] { (1...max(count, 1)).map(NodeID.init) }
}

/// A client session. Together with a sequence number it identifies a request for exactly-once semantics.
public struct ClientID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public var description: String { "c\(rawValue)" }

    public static func < (lhs: ClientID, rhs: ClientID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The highest id a client may choose for its session; the ids above (bit 62 set) are minted
    /// by a node for a connection that chose none (`RESP.connectionClientID`).
    public static let maximumChosen = (1 << 62) - 1

    /// Whether a node minted this id for one of its connections. Such an id is unique only within
    /// its cluster: another cluster's nodes mint the same numbers.
    public var isMintedByConnection: Bool { rawValue > Self.maximumChosen }
}

/// Position in a replicated log. Index 0 is "before the first entry"; the first real entry has index 1.
public typealias LogIndex = Int
