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
    /// How much work one key's minimisation may do: subset checks, search steps per check and in
    /// all, and operations prepared for the checks in all (preparing a key with long appended values
    /// costs more than searching it). Deterministic (no wall clock), like the checker's own budget.
    struct Budget {
        var checks: Int
        var stepsPerCheck: Int
        var totalSteps: Int
        var operations: Int

        static let standard = Budget(checks: 160, stepsPerCheck: 40_000, totalSteps: 1_000_000, operations: 1_500)
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
    private let mismatches: [Int]
    /// Per written value, the operations whose observed value has it as a piece.
    private let observersOf: [RegisterSpace.ValueID: [Int]]
    /// The operations that observe absence, and those that observe a value.
    private let absentObservers: [Int]
    private let presentObservers: [Int]
    private let budget: Budget
    private(set) var checks = 0
    private(set) var steps = 0
    private(set) var operationsChecked = 0

    init(_ history: KeyHistory, budget: Budget = .standard) {
        self.history = history
        self.budget = budget
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
        mismatches = roles.indices.filter { roles[$0]?.mismatch != nil }
        let observers = roles.indices.filter { roles[$0]?.observes != nil }
        absentObservers = observers.filter { roles[$0]!.observes == RegisterSpace.noValue }
        presentObservers = observers.filter { roles[$0]!.observes != RegisterSpace.noValue }
        var pieces = history.pieces
        var piecesOf: [RegisterSpace.ValueID: [RegisterSpace.ValueID]] = [:]
        var observersOf: [RegisterSpace.ValueID: [Int]] = [:]
        for o in presentObservers {
            let text = roles[o]!.observes!
            if piecesOf[text] == nil { piecesOf[text] = Array(Set(pieces.of(Int(text)).map(\.value))) }
            for piece in piecesOf[text]! { observersOf[piece, default: []].append(o) }
        }
        self.observersOf = observersOf
    }

    /// The operations that say something about the register (refused ones and timed-out gets do not).
    var informative: [Int] { roles.indices.filter { roles[$0] != nil } }

    /// The smallest non-linearizable subset found, starting from the seeds (index sets tried in
    /// order, each with what the rules keep), else from the whole key, which the caller has found
    /// not linearizable.
    mutating func find(seeds: [[Int]]) -> Found {
        let all = informative
        var members = all
        for seed in seeds {
            let kept = Set(seed)
            let start = removing(all.filter { !kept.contains($0) }, from: all)
            if start.count < all.count, isViolation(start) {
                members = start
                break
            }
        }
        var size = max(1, members.count / 2)
        while true {
            var progress = false
            var position = 0
            while position < members.count {
                guard checks < budget.checks, steps < budget.totalSteps, operationsChecked < budget.operations else {
                    return Found(members: members, isMinimal: false)
                }
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
    private func pins(_ w: Int, kept: [Bool], written: Written) -> Bool {
        guard let role = roles[w], let value = role.writes else { return false }
        let seen: Bool
        if value == RegisterSpace.noValue {
            seen = absentObservers.contains { kept[$0] && $0 != w }
                || (written.latestAppend >= role.invoke && presentObservers.contains { kept[$0] && $0 != w && roles[$0]!.deadline >= role.invoke })
        } else if history.space.values[Int(value)].isEmpty {
            seen = presentObservers.contains { kept[$0] && $0 != w }
        } else {
            seen = observersOf[value]?.contains { kept[$0] && $0 != w } ?? false
        }
        if seen { return true }
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

    /// Whether the subset is provably not linearizable: by the search within the per-check budget,
    /// or by a direct proof when the search runs out.
    private mutating func isViolation(_ members: [Int]) -> Bool {
        checks += 1
        operationsChecked += members.count
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
