/// The search's memo: Lowe's "configurations seen", extended with dominance between
/// configurations that differ only in the timeouts spent on cas mismatches.
///
/// A configuration is the set of operations linearized (a prefix of the mandatory operations by
/// deadline, the mandatory ones beyond it, the optional ones applied) and the register's state.
/// Seeing one again is pruned (Lowe 2017). Beyond that, some indeterminate writes are applied only
/// to make a cas mismatch hold, once nothing else can observe them (see
/// `KeyHistory.boundObservation`); they are interchangeable from then on within a class, so
/// `servedMismatches` is the multiset of their classes. Two configurations equal
/// but for those differ in resources only: the one that spent fewer has every completion the other
/// has. So once a configuration has failed (its whole subtree was explored), any configuration
/// equal but for having spent more, with no weaker observation obligation, fails too and is
/// pruned. Without this, every mismatch that could be explained either way doubles the
/// configurations for the rest of the history.
struct SearchMemo {
    struct Configuration {
        var state: RegisterSpace.StateID
        /// The last indeterminate write applied awaits an observation.
        var unobserved: Bool
        var prefix: Int32
        var mandatory: SortedSetTable.SetID
        var optional: SortedSetTable.SetID
        /// Classes of the writes applied for mismatches, a multiset sorted descending.
        var servedMismatches: SortedSetTable.SetID
    }

    /// The configuration without its mismatch resources, packed into the memo table's two words.
    private static func base(_ configuration: Configuration) -> (UInt64, UInt64) {
        (UInt64(UInt32(bitPattern: configuration.state)) << 32 | UInt64(UInt32(bitPattern: configuration.prefix)),
         UInt64(UInt32(bitPattern: configuration.mandatory)) << 32 | UInt64(UInt32(bitPattern: configuration.optional)))
    }

    /// Per base, the first of its variants; variants chain through `variantNext`.
    private var buckets: IntegerTable
    private var variantServed: [SortedSetTable.SetID] = []
    private var variantUnobserved: [Bool] = []
    private var variantFailed: [Bool] = []
    private var variantNext: [Int32] = []

    /// A memo sized for about `expected` configurations, the least a search of that many
    /// operations records.
    init(expected: Int) {
        buckets = IntegerTable(expected: expected)
        variantServed.reserveCapacity(expected)
        variantUnobserved.reserveCapacity(expected)
        variantFailed.reserveCapacity(expected)
        variantNext.reserveCapacity(expected)
    }

    /// Configurations recorded.
    var count: Int { variantServed.count }

    /// Records `configuration` and returns true, unless it was seen before or is dominated by one
    /// that failed, in which case exploring it cannot succeed.
    mutating func visit(_ configuration: Configuration, sets: SortedSetTable) -> Bool {
        let base = Self.base(configuration)
        let head = buckets.value(base.0, base.1) ?? -1
        var variant = head
        while variant >= 0 {
            let v = Int(variant)
            if variantServed[v] == configuration.servedMismatches, variantUnobserved[v] == configuration.unobserved { return false }
            if variantFailed[v], !variantUnobserved[v] || configuration.unobserved,
               sets.isSubset(variantServed[v], of: configuration.servedMismatches) { return false }
            variant = variantNext[v]
        }
        buckets.set(base.0, base.1, to: Int32(variantServed.count))
        variantServed.append(configuration.servedMismatches)
        variantUnobserved.append(configuration.unobserved)
        variantFailed.append(false)
        variantNext.append(head)
        return true
    }

    /// Records that `configuration`'s whole subtree was explored without success.
    mutating func markFailed(_ configuration: Configuration) {
        let base = Self.base(configuration)
        var variant = buckets.value(base.0, base.1) ?? -1
        while variant >= 0 {
            let v = Int(variant)
            if variantServed[v] == configuration.servedMismatches, variantUnobserved[v] == configuration.unobserved {
                variantFailed[v] = true
                return
            }
            variant = variantNext[v]
        }
    }
}
