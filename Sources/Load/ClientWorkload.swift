import ConsensusCore

/// What one client sends: operations, keys and values drawn from a SplitMix64 generator seeded by
/// the run's seed and the client's number, so a run's request sequence per client is fixed by
/// `--seed` (what the target answers, and so how many requests fit in the time, is not).
struct ClientWorkload {
    let client: Int
    let mix: OperationMix
    let keys: Int
    let valueBytes: Int
    private var random: SplitMix64
    /// Numbers this client's values, so each value it writes is new.
    private var sequence = 0
    /// The value this client last read or wrote at each key: what its next `cas` there expects.
    /// Other clients' writes make it stale, and the `cas` then does not apply, as under any
    /// contention; a key it has not seen expects its preload value.
    private var known: [String: String] = [:]

    init(client: Int, options: LoadOptions) {
        self.client = client
        mix = options.mix
        keys = options.keys
        valueBytes = options.valueBytes
        random = SplitMix64(seed: DeterministicRandom.derive(options.seed, "load client \(client)"))
    }

    static func key(_ index: Int) -> String { "key:\(index)" }

    /// The value the preload writes at key `index`.
    static func preloadValue(_ index: Int, bytes: Int) -> String { padded("preload.\(index).", to: bytes) }

    /// `prefix` filled with `x` to `bytes` bytes, or cut to them.
    static func padded(_ prefix: String, to bytes: Int) -> String {
        prefix.utf8.count >= bytes ? String(prefix.prefix(bytes)) : prefix + String(repeating: "x", count: bytes - prefix.utf8.count)
    }

    mutating func next() -> Operation {
        let kind = mix.kind(for: draw(below: mix.total))
        let index = draw(below: keys)
        let key = Self.key(index)
        switch kind {
        case .get, .del:
            return Operation(kind: kind, key: key)
        case .put, .append:
            return Operation(kind: kind, key: key, value: newValue())
        case .cas:
            return Operation(kind: kind, key: key, value: newValue(), expected: known[key] ?? Self.preloadValue(index, bytes: valueBytes))
        }
    }

    /// Learns the key's value from how `operation` ended.
    mutating func observe(_ operation: Operation, _ outcome: OperationOutcome) {
        guard case .ok(let result) = outcome else { return }
        switch (operation.kind, result) {
        case (.get, .value(let value)): known[operation.key] = value
        case (.put, _), (.cas, .done): known[operation.key] = operation.value
        case (.append, _): known[operation.key] = known[operation.key].map { $0 + operation.value }
        case (.del, _): known[operation.key] = nil
        default: break
        }
    }

    private mutating func newValue() -> String {
        sequence += 1
        return Self.padded("c\(client).\(sequence).", to: valueBytes)
    }

    /// Uniform in `0..<bound` by the multiply-shift map (the bias, under bound/2⁶⁴, is far below
    /// anything a load test can see), fixed across toolchains unlike the standard library's.
    private mutating func draw(below bound: Int) -> Int {
        Int(random.next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
