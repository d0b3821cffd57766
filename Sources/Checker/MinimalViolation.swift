import ConsensusCore

/// The smallest set of a key's operations found that no order explains, as Knossos and Porcupine
/// show a violation: a reader follows four operations, not the six hundred before the culprit.
///
/// The minimisation removes operations while what is left is still provably not linearizable
/// (the search, or a direct proof, on the subset; a search that runs out of budget counts as "cannot
/// remove"): first it tries small seeds (the operations the explanation names, then everything
/// invoked before the culprit completed), each with whatever the rules below forbid removing; then
/// it removes chunks of the rest, halving their size, down to single operations (delta debugging).
/// The result is 1-minimal when the budget lasted: removing any one operation the rules allow
/// leaves a history the search can order.
///
/// Soundness: a subset must never be non-linearizable for a reason the full history does not have,
/// or the checker would invent a violation. So only removals that keep this true are made: for
/// every linearization L of the full history, L restricted to the subset S is a linearization of S.
/// Real-time order is inherited, so what must hold is that every operation of S still sees a state
/// its recorded result allows. A state is the value of the last put, cas or delete B before an
/// operation o, followed by the fragments of the appends after B.
/// - Reads, cas answered "mismatch", and operations that say nothing (refused, timed-out gets)
///   change no state: removing them never changes what the others see.
/// - If o reads, or as a cas (ok or timed out) expects, the value v, and w is B or one of the
///   appends after B, then w's value is a piece of v in the decomposition L spells
///   (`TextPieces`; without appends, v itself); an empty value hides in every value; a delete B
///   leaves v absent, or spells v from appends after it (each a piece of v, so kept with o), which
///   needs o to come after B: o's completion not before B's invocation (touching intervals are
///   concurrent, as in the search). A write is removed only if no o in S could see it so
///   (`pins`): then B and those appends are in S whenever o is, and o sees exactly its state in
///   L. (A write of an observed value stays even when it came too late to be seen: it is what
///   shows a read of the future to be one.)
/// - A cas mismatch m holds while the state differs from its expected value e. Removing a write
///   that m can follow (by the same timing) may change the state m sees, to e: so while S keeps such an m, the write
///   stays unless S can never hold e — no put, cas or append in S writes e, e is not absent, and S
///   has no appends to spell it with. (Removing the mismatches first leaves the writes free.)
/// Each rule forbids more the more S keeps, and S only shrinks, so a removal the rules allowed
/// stays allowed for the final set: that set is non-linearizable only if the full history is,
/// and its violation is one of the full history's.
struct MinimalViolation {
    /// How much work one key's minimisation may do: subset checks, and search steps per check.
    /// Deterministic (no wall clock), like the checker's own budget.
    struct Budget {
        var checks: Int
        var stepsPerCheck: Int
        var totalSteps: Int

        static let standard = Budget(checks: 160, stepsPerCheck: 40_000, totalSteps: 1_000_000)
    }

    /// The set found, as indices into `KeyHistory.operations` (ascending), and whether it is
    /// 1-minimal (the budget lasted).
    struct Found {
        var members: [Int]
        var isMinimal: Bool
    }

    /// What one operation asks of the state or does to it, by value (`RegisterSpace.ValueID`;
    /// `noValue` is absent).
    private struct Role {
        var invoke: Int64
        /// Its completion, or `Int64.max` for a timed-out operation.
        var deadline: Int64
        /// The value a get read, or a cas (ok or timed out) expects.
        var observes: RegisterSpace.ValueID?
        /// The value a cas answered "mismatch" expected.
        var mismatch: RegisterSpace.ValueID?
        /// The value a put, cas or append writes; `noValue` for a delete.
        var writes: RegisterSpace.ValueID?
        var isAppend = false
    }

    /// What the kept operations write, for the mismatch rule.
    private struct Written {
        var values: Set<RegisterSpace.ValueID> = []
        var hasAppend = false
        /// The latest deadline of a kept append.
        var latestAppend = Int64.min
    }

    private let history: KeyHistory
    private let roles: [Role?]
    private let observers: [Int]
    private let mismatches: [Int]
    private var pieces: TextPieces
    private var piecesOf: [RegisterSpace.ValueID: Set<RegisterSpace.ValueID>] = [:]
    private let budget: Budget
    private(set) var checks = 0
    private(set) var steps = 0

    init(_ history: KeyHistory, budget: Budget = .standard) {
        self.history = history
        self.budget = budget
        pieces = history.pieces
        var ids: [String: RegisterSpace.ValueID] = [:]
        for (id, value) in history.space.values.enumerated().dropFirst() { ids[value] = RegisterSpace.ValueID(id) }
        let roles = history.operations.map { operation -> Role? in
            guard let (action, _) = KeyHistory.action(of: operation, intern: { $0.map { ids[$0]! } ?? RegisterSpace.noValue }) else { return nil }
            var role = Role(invoke: operation.invoke.microseconds, deadline: operation.complete?.microseconds ?? Int64.max)
            switch action {
            case .read(let value): role.observes = value
            case .differs(let expected): role.mismatch = expected
            case .put(let value): role.writes = value
            case .delete: role.writes = RegisterSpace.noValue
            case .append(let value): (role.writes, role.isAppend) = (value, true)
            case .cas(let expected, let value): (role.observes, role.writes) = (expected, value)
            }
            return role
        }
        self.roles = roles
        observers = roles.indices.filter { roles[$0]?.observes != nil }
        mismatches = roles.indices.filter { roles[$0]?.mismatch != nil }
    }

    /// The operations that say something about the register (refused ones and timed-out gets do not).
    var informative: [Int] { roles.indices.filter { roles[$0] != nil } }

    /// The smallest non-linearizable subset found, starting from the seeds (index sets tried in
    /// order, each with what the rules keep); `nil` if even the whole key cannot be shown to be
    /// non-linearizable within the budget.
    mutating func find(seeds: [[Int]]) -> Found? {
        var current: [Int]?
        for seed in seeds {
            let kept = Set(seed)
            let start = removing(informative.filter { !kept.contains($0) }, from: informative)
            if start.count < informative.count, isViolation(start) {
                current = start
                break
            }
        }
        if current == nil, isViolation(informative) { current = informative }
        guard var members = current else { return nil }
        var size = max(1, members.count / 2)
        while true {
            var progress = false
            var position = 0
            while position < members.count {
                guard checks < budget.checks, steps < budget.totalSteps else { return Found(members: members, isMinimal: false) }
                let chunk = Array(members[position..<min(position + size, members.count)])
                let reduced = removing(chunk, from: members)
                if reduced.count < members.count, isViolation(reduced) {
                    members = reduced
                    progress = true
                } else {
                    position += size
                }
            }
            if progress { continue }
            if size == 1 { return Found(members: members, isMinimal: true) }
            size = max(1, size / 2)
        }
    }

    /// `members` without as much of `chunk` as the rules allow: what a kept operation could see,
    /// or what a kept mismatch could be hurt by removing, stays (and may pin more in turn).
    mutating func removing(_ chunk: [Int], from members: [Int]) -> [Int] {
        var kept = [Bool](repeating: false, count: roles.count)
        for member in members { kept[member] = true }
        for member in chunk { kept[member] = false }
        var changed = true
        while changed {
            changed = false
            let written = writtenValues(kept)
            for member in chunk where !kept[member] && pins(member, kept: kept, written: written) {
                kept[member] = true
                changed = true
            }
        }
        return members.filter { kept[$0] }
    }

    /// Whether the kept operations forbid removing operation `w` (see the type's comment).
    private mutating func pins(_ w: Int, kept: [Bool], written: Written) -> Bool {
        guard let role = roles[w], let value = role.writes else { return false }
        for o in observers where kept[o] && o != w {
            let observed = roles[o]!.observes!
            if value == RegisterSpace.noValue {
                if observed == RegisterSpace.noValue { return true }
                if roles[o]!.deadline >= role.invoke, written.latestAppend >= role.invoke { return true }
            } else if observed != RegisterSpace.noValue,
                      history.space.values[Int(value)].isEmpty || piecesOf(observed).contains(value) {
                return true
            }
        }
        for m in mismatches where kept[m] && roles[m]!.deadline >= role.invoke {
            let expected = roles[m]!.mismatch!
            if expected == RegisterSpace.noValue || written.hasAppend || written.values.contains(expected) { return true }
        }
        return false
    }

    private func writtenValues(_ kept: [Bool]) -> Written {
        var written = Written()
        for (index, role) in roles.enumerated() where kept[index] {
            guard let role, let value = role.writes else { continue }
            if value != RegisterSpace.noValue { written.values.insert(value) }
            if role.isAppend {
                written.hasAppend = true
                written.latestAppend = max(written.latestAppend, role.deadline)
            }
        }
        return written
    }

    private mutating func piecesOf(_ text: RegisterSpace.ValueID) -> Set<RegisterSpace.ValueID> {
        if let known = piecesOf[text] { return known }
        let found = Set(pieces.of(Int(text)).map(\.value))
        piecesOf[text] = found
        return found
    }

    /// Whether the subset is provably not linearizable: by the search within the per-check budget,
    /// or by a direct proof when the search runs out.
    private mutating func isViolation(_ members: [Int]) -> Bool {
        checks += 1
        let subset = KeyHistory(key: history.key, operations: members.map { history.operations[$0] })
        var search = LinearizabilitySearch(subset)
        let limit = min(budget.stepsPerCheck, KeyLinearizability.fastSteps(subset))
        let result = search.run(maxSteps: limit, deadline: nil)
        steps += search.steps
        switch result {
        case .notLinearizable: return true
        case .linearizable: return false
        case .unknown: return ViolationProofs.find(subset) != nil
        }
    }
}
