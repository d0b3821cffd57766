import ConsensusCore
import Simulator
import Zab

/// ZAB's safety properties (Zab, DSN 2011 §III), checked after every step of a simulation:
///
/// - one established leader per epoch;
/// - primary order: every node delivers a prefix of one global order, which follows zxid order;
/// - no committed transaction lost: a leader, once established, holds everything delivered in
///   earlier epochs;
/// - the backend reports no state its own invariants exclude.
///
/// At the end of a run, `checkAcknowledged` adds: every write a client saw succeed was delivered.
final class ZabChecker {
    private(set) var failures: [String] = []
    /// The global delivery order: the transaction at log index i is `delivered[i - 1]`.
    private(set) var delivered: [Transaction] = []
    /// Established leaders by epoch.
    private(set) var leaders: [Epoch: NodeID] = [:]
    /// Deliveries seen only through a snapshot (their transactions were not in memory any more).
    private(set) var uncheckedDeliveries = 0
    private var checkedThrough: [NodeID: LogIndex] = [:]
    private var leaderChecked: Set<Epoch> = []

    /// Installs the checks on `simulation`.
    func attach(to simulation: Simulation<Zab>) {
        simulation.afterStep = { [unowned self] simulation, node in self.check(node, in: simulation) }
    }

    private func fail(_ message: String, at time: Instant) {
        if failures.count < 20 { failures.append("\(time): \(message)") }
    }

    func check(_ node: NodeID, in simulation: Simulation<Zab>) {
        guard let zab = simulation.backend(node) else { return }
        if let violation = zab.violations.first?.description, failures.allSatisfy({ !$0.contains(violation) }) {
            fail("\(node) reports: \(violation)", at: simulation.now)
        }
        if zab.isEstablishedLeader { checkLeader(node, zab, at: simulation.now) }
        checkDeliveries(node, zab, at: simulation.now)
    }

    private func checkLeader(_ node: NodeID, _ zab: Zab, at now: Instant) {
        let epoch = zab.currentEpoch
        if let other = leaders[epoch], other != node { fail("two established leaders in epoch \(epoch): \(other) and \(node)", at: now) }
        leaders[epoch] = node
        guard leaderChecked.insert(epoch).inserted else { return }
        // Primary integrity: the new primary's history holds every transaction of earlier epochs
        // delivered so far, at the same place. (A leader that was paused notices its establishment
        // late, when later epochs may have delivered more: those it need not hold.)
        let earlier = delivered.prefix { $0.zxid.epoch < epoch }
        if zab.log.lastIndex < earlier.count {
            fail("leader \(node) of epoch \(epoch) holds \(zab.log.lastIndex) transactions, \(earlier.count) of earlier epochs were delivered", at: now)
        }
        for index in max(zab.log.firstIndex - 1, 1)...max(earlier.count, 1) where index <= earlier.count {
            if let zxid = zab.log.zxid(at: index), zxid != earlier[index - 1].zxid {
                fail("leader \(node) of epoch \(epoch) has \(zxid) at index \(index) where \(earlier[index - 1].zxid) was delivered", at: now)
                return
            }
        }
    }

    private func checkDeliveries(_ node: NodeID, _ zab: Zab, at now: Instant) {
        var checked = checkedThrough[node] ?? 0
        if zab.appliedIndex < checked { checked = zab.appliedIndex }  // restarted from its snapshot
        guard zab.appliedIndex > checked else { checkedThrough[node] = checked; return }
        for index in (checked + 1)...zab.appliedIndex {
            guard let transaction = zab.log.transaction(at: index) else {
                if let zxid = zab.log.zxid(at: index), index <= delivered.count, zxid != delivered[index - 1].zxid {
                    fail("\(node) delivered \(zxid) at index \(index) (snapshot), others \(delivered[index - 1].zxid)", at: now)
                }
                uncheckedDeliveries += 1
                continue
            }
            if index <= delivered.count {
                if delivered[index - 1] != transaction {
                    fail("primary order: \(node) delivered \(transaction.zxid) at index \(index), others delivered \(delivered[index - 1].zxid)", at: now)
                }
            } else if index == delivered.count + 1 {
                if let last = delivered.last, transaction.zxid <= last.zxid {
                    fail("delivery order breaks zxid order: \(transaction.zxid) after \(last.zxid) at index \(index)", at: now)
                }
                delivered.append(transaction)
            } else {
                fail("\(node) delivered index \(index) before anyone delivered index \(delivered.count + 1)", at: now)
            }
        }
        checkedThrough[node] = zab.appliedIndex
    }

    /// Every write a client saw succeed was delivered (exactly the command that client sent).
    func checkAcknowledged(_ history: [HistoryOperation]) {
        var deliveredWrites = Set<WriteKey>()
        for transaction in delivered { deliveredWrites.insert(WriteKey(client: transaction.request.client, command: transaction.request.command)) }
        for operation in history where !operation.command.isRead {
            guard case .ok(.done) = operation.outcome else { continue }
            if !deliveredWrites.contains(WriteKey(client: operation.client, command: operation.command)) {
                fail("acknowledged write lost: op \(operation.id) \(operation.command) by \(operation.client)", at: operation.complete ?? .zero)
            }
        }
    }

    private struct WriteKey: Hashable {
        var client: ClientID
        var command: Command
    }
}

/// Reads that returned a value older than one a write had replaced before the read began: the
/// read returned write W1's value although a write W2 to the same key, which began after W1 had
/// completed, completed itself before the read began. (Write values are unique in the lab's
/// workload, so the value names W1.) Linearizability forbids them; sequential consistency does not.
enum StaleReads {
    struct Example: CustomStringConvertible {
        var read: HistoryOperation
        var replaced: HistoryOperation
        var replacing: HistoryOperation

        var description: String {
            "op \(read.id) at \(read.node) read \(read.command.key)=\(replaced.command.writtenValue ?? "nil") at \(read.invoke), "
                + "but op \(replacing.id) had replaced it by \(replacing.complete!)"
        }
    }

    /// Acknowledged writes by the value they wrote (puts and compare-and-sets) and by key.
    static func writes(in history: [HistoryOperation]) -> (byValue: [String: HistoryOperation], byKey: [String: [HistoryOperation]]) {
        var writesByValue: [String: HistoryOperation] = [:]
        var writesByKey: [String: [HistoryOperation]] = [:]
        for operation in history where !operation.command.isRead {
            guard case .ok(.done) = operation.outcome, operation.complete != nil else { continue }
            writesByKey[operation.command.key, default: []].append(operation)
            switch operation.command {
            case .put(_, let value), .cas(_, _, let value): writesByValue[value] = operation
            default: break
            }
        }
        return (writesByValue, writesByKey)
    }

    static func find(in history: [HistoryOperation]) -> [Example] {
        let (writesByValue, writesByKey) = writes(in: history)
        var examples: [Example] = []
        for read in history {
            guard case .get(let key) = read.command, case .ok(.value(let value?)) = read.outcome,
                  let source = writesByValue[value], let sourceDone = source.complete else { continue }
            let replacing = writesByKey[key, default: []].first { write in
                write.invoke > sourceDone && write.complete! < read.invoke
            }
            if let replacing { examples.append(Example(read: read, replaced: source, replacing: replacing)) }
        }
        return examples
    }

    /// Reads through which a client sees time go back: it reads the value of a write that had
    /// completed before another write began whose effect the same client had already seen (written
    /// or read). ZooKeeper promises its clients sequential consistency, which excludes them even
    /// for local reads.
    static func goingBack(in history: [HistoryOperation]) -> [HistoryOperation] {
        let (writesByValue, _) = writes(in: history)
        var seen: [ClientID: [String: HistoryOperation]] = [:]
        var found: [HistoryOperation] = []
        for operation in history.sorted(by: { ($0.client, $0.invoke) < ($1.client, $1.invoke) }) {
            let observed: HistoryOperation?
            switch (operation.command, operation.outcome) {
            case (.get, .ok(.value(let value?))): observed = writesByValue[value]
            case (.put, .ok(.done)), (.cas, .ok(.done)): observed = operation
            default: observed = nil
            }
            guard let observed, let observedDone = observed.complete else { continue }
            let key = operation.command.key
            if let latest = seen[operation.client]?[key] {
                if observedDone < latest.invoke { found.append(operation); continue }
                if observed.invoke < latest.invoke { continue }
            }
            seen[operation.client, default: [:]][key] = observed
        }
        return found
    }
}