/// Which operations a client sends, and how often: `put`, or weights such as `put=50,get=50`.
public struct OperationMix: Hashable, Sendable, CustomStringConvertible {
    public struct Share: Hashable, Sendable {
        public var kind: OperationKind
        public var weight: Int
    }

    /// In the order given; weights are positive.
    public private(set) var shares: [Share]
    /// The sum of the weights.
    public let total: Int

    /// Half writes, half reads: what a key-value store is most often measured with (YCSB's workload A).
    public static let standard = OperationMix(shares: [Share(kind: .put, weight: 50), Share(kind: .get, weight: 50)])

    private init(shares: [Share]) {
        self.shares = shares
        total = shares.reduce(0) { $0 + $1.weight }
    }

    /// `put`, `get`, … alone, or `name=weight` pairs separated by commas. A weight of 0 leaves the
    /// operation out; at least one weight is positive.
    public init(parsing text: String) throws(LoadInputError) {
        let names = OperationKind.allCases.map(\.rawValue).joined(separator: ", ")
        if let kind = OperationKind(rawValue: text) {
            self.init(shares: [Share(kind: kind, weight: 1)])
            return
        }
        var shares: [Share] = []
        var seen: Set<OperationKind> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, let kind = OperationKind(rawValue: String(parts[0])) else {
                throw LoadInputError("--mix", "'\(item)' is not an operation (\(names)) or NAME=WEIGHT, e.g. put=50,get=50")
            }
            guard let weight = Int(parts[1]), weight >= 0, weight <= 1_000_000 else {
                throw LoadInputError("--mix", "the weight of \(kind.rawValue), '\(parts[1])', is not an integer in 0…1000000")
            }
            guard seen.insert(kind).inserted else { throw LoadInputError("--mix", "\(kind.rawValue) is given twice") }
            if weight > 0 { shares.append(Share(kind: kind, weight: weight)) }
        }
        guard !shares.isEmpty else { throw LoadInputError("--mix", "'\(text)' gives no operation a positive weight") }
        self.init(shares: shares)
    }

    /// The operation for `draw`, a number uniform in `0..<total`.
    func kind(for draw: Int) -> OperationKind {
        var rest = draw
        for share in shares {
            if rest < share.weight { return share.kind }
            rest -= share.weight
        }
        return shares[shares.count - 1].kind
    }

    public func contains(_ kind: OperationKind) -> Bool { shares.contains { $0.kind == kind } }

    /// `put` for one operation, else `put=50,get=50` in the order given.
    public var description: String {
        shares.count == 1 ? shares[0].kind.rawValue : shares.map { "\($0.kind.rawValue)=\($0.weight)" }.joined(separator: ",")
    }
}
