import ConsensusCore
import Foundation
import Testing
@testable import Checker

/// Linearizability by definition, for tiny histories: try every order that respects real time,
/// with every subset of the indeterminate writes. Written independently of the checker (no
/// pruning, no interning, no promotion), so that the two can be compared.
enum ReferenceLinearizability {
    enum Step {
        case read(String?)
        case differs(String?)
        case write(Command)
    }

    struct Item {
        var step: Step
        var invoke: Int64
        var complete: Int64
        var optional: Bool
    }

    static func items(_ history: [HistoryOperation]) -> [Item] {
        history.compactMap { operation in
            let invoke = operation.invoke.microseconds
            let complete = operation.complete?.microseconds ?? Int64.max
            switch (operation.command, operation.outcome) {
            case (.get, .ok(.value(let value))): return Item(step: .read(value), invoke: invoke, complete: complete, optional: false)
            case (.cas(_, let expected, _), .fail(.casMismatch)): return Item(step: .differs(expected), invoke: invoke, complete: complete, optional: false)
            case (.get, _), (_, .fail): return nil
            case (_, .ok): return Item(step: .write(operation.command), invoke: invoke, complete: complete, optional: false)
            case (_, .indeterminate): return Item(step: .write(operation.command), invoke: invoke, complete: complete, optional: true)
            }
        }
    }

    static func isLinearizable(_ history: [HistoryOperation]) -> Bool {
        let items = items(history)
        var failed = Set<String>()
        func search(_ state: String?, _ remaining: Set<Int>) -> Bool {
            if !remaining.contains(where: { !items[$0].optional }) { return true }
            let memo = "\(remaining.sorted())|\(state ?? "<absent>")"
            if failed.contains(memo) { return false }
            for i in remaining.sorted() {
                // Nothing that had to finish before this one started may still be pending.
                if remaining.contains(where: { !items[$0].optional && items[$0].complete < items[i].invoke }) { continue }
                var next = state
                switch items[i].step {
                case .read(let value): if state != value { continue }
                case .differs(let expected): if state == expected { continue }
                case .write(let command):
                    switch command {
                    case .put(_, let value): next = value
                    case .delete: next = nil
                    case .append(_, let value): next = (state ?? "") + value
                    case .cas(_, let expected, let value):
                        if state != expected { continue }
                        next = value
                    case .get: continue
                    }
                }
                if search(next, remaining.subtracting([i])) { return true }
            }
            failed.insert(memo)
            return false
        }
        return search(nil, Set(items.indices))
    }
}

@Suite struct ReferenceComparisonTests {
    static let full = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1"

    /// A tiny one-key history. Half have appends (whose fragments spell other values), and the
    /// pool of values ranges from two (values repeat, reads are ambiguous) to nine (mostly
    /// unique, as in the lab) and includes the empty string, so that every pruning rule of the
    /// search meets its edge cases.
    static func tinyHistory(seed: UInt64, operations: ClosedRange<Int> = 1...8, span: Int64 = 30) -> [HistoryOperation] {
        var random = DeterministicRandom(seed: seed, label: "tiny-history")
        let withAppends = random.chance(0.5)
        let pool = Array((withAppends ? ["a", "b", "", "ab", "ba", "aa", "bb", "aba", "bab"] : ["a", "b", "", "c", "d", "e", "f", "g", "h"]).prefix(random.uniform(2...9)))
        func value() -> String { pool[random.index(below: pool.count)] }
        func maybeValue() -> String? { random.chance(0.25) ? nil : value() }
        return (0..<random.uniform(operations)).map { id in
            let command: Command
            switch random.index(below: withAppends ? 5 : 4) {
            case 0: command = .get(key: "k")
            case 1: command = .put(key: "k", value: value())
            case 2: command = .delete(key: "k")
            case 3: command = withAppends ? .append(key: "k", value: ["a", "b", ""][random.index(below: 3)]) : .cas(key: "k", expected: maybeValue(), value: value())
            default: command = .cas(key: "k", expected: maybeValue(), value: value())
            }
            let invoke = random.uniform(0...span)
            let complete = invoke + random.uniform(0...15)
            let roll = random.nextUnit()
            var outcome: Outcome = command.isRead ? .ok(.value(maybeValue())) : .ok(.done)
            if roll < 0.15 { outcome = .indeterminate }
            else if roll < 0.25 { outcome = .fail(.refused) }
            else if roll < 0.4, case .cas = command { outcome = .fail(.casMismatch) }
            return HistoryOperation(id: id, client: ClientID(id), node: NodeID(1), command: command,
                                    invoke: Instant(microseconds: Int64(invoke)),
                                    complete: outcome == .indeterminate ? nil : Instant(microseconds: Int64(complete)), outcome: outcome)
        }
    }

    /// Tiny histories, 10^4 of them (10^5 with CONLAB_FULL=1), and longer ones spread over more
    /// time, where timed-out writes outlive everything that could observe them.
    @Test(arguments: [(1...8, 30, 10_000), (9...13, 120, 1_000)])
    func checkerAgreesWithExhaustiveSearch(operations: ClosedRange<Int>, span: Int64, count: Int) throws {
        let count = Self.full ? count * 10 : count
        var verdicts: [Verdict: Int] = [:]
        for seed in 1...UInt64(count) {
            let history = Self.tinyHistory(seed: seed, operations: operations, span: span)
            let expected: Verdict = ReferenceLinearizability.isLinearizable(history) ? .linearizable : .notLinearizable
            let report = try Checker.check(CheckInput(history: history))
            verdicts[expected, default: 0] += 1
            let replay = "replay: ReferenceComparisonTests.tinyHistory(seed: \(seed), operations: \(operations), span: \(span))\n"
                + history.map(\.jsonLine).joined(separator: "\n")
            #expect(report.linearizable == expected, "\(replay)")
            // A stale read is a proof of a violation.
            if report.staleReads > 0 { #expect(expected == .notLinearizable, "\(replay)") }
            if report.linearizable != expected { return }
        }
        // Both answers were exercised, in earnest.
        #expect(verdicts[.linearizable, default: 0] > count / 20, "\(verdicts)")
        #expect(verdicts[.notLinearizable, default: 0] > count / 20, "\(verdicts)")
    }
}
