import ConsensusCore
import Simulator

/// The columns of `summary.csv`, in file order: DESIGN.md's set first, then the later additions
/// (new columns go at the end, names never change).
enum SummaryColumn: String, CaseIterable {
    case experiment, scenario, `protocol`, variant, nodes, seed
    case opsOK = "ops_ok", opsFailed = "ops_failed", opsIndeterminate = "ops_indeterminate", availability
    case throughput = "throughput_ops_s", latencyP50 = "latency_p50_ms", latencyP95 = "latency_p95_ms", latencyP99 = "latency_p99_ms"
    case messagesTotal = "msgs_total", messagesPerOp = "msgs_per_op", leaderChanges = "leader_changes"
    case maxUnavailable = "max_unavailable_ms", recovery = "recovery_ms"
    case linearizable, staleReads = "stale_reads", lostWrites = "lost_writes", divergentKeys = "divergent_keys"
    case atomicityViolations = "atomicity_violations"
    // Added after the DESIGN.md set.
    case sweep, run, bytesTotal = "bytes_total", bytesPerOp = "bytes_per_op", availabilityFaulted = "availability_faulted"
    case availabilityMajoritySide = "availability_majority_side", availabilityMinoritySide = "availability_minority_side"
    case healRecovery = "heal_recovery_ms", elections, electionMean = "election_ms_mean", electionMax = "election_ms_max"
    case messagesPerWrite = "msgs_per_write", safetyViolations = "safety_violations"
    /// `sim` or `real`: which driver ran it (`RunDriver`).
    case driver
    /// Atomic-commit backends only (`InDoubtMetrics`): transactions a participant was blocked in
    /// doubt about, the longest wait in doubt, and transactions still in doubt at the end.
    case inDoubtTransactions = "in_doubt_txns", inDoubtMax = "in_doubt_max_ms", inDoubtUnresolved = "in_doubt_unresolved"
}

/// One run's line of `summary.csv`. Each column's value is computed by name in one exhaustive
/// switch, so a value can never land under another column's header.
struct SummaryRow {
    let output: RunOutput
    let metrics: RunMetrics
    let windows: [FaultWindow]
    let faulted: [HistoryOperation]
    let majority: [HistoryOperation]
    let minority: [HistoryOperation]
    let elections: [TimeSpan]
    let writesOK: Int
    /// Nil for backends that do not replicate by atomic commit: their `in_doubt_*` columns are empty.
    let inDoubt: InDoubtMetrics?

    init(_ output: RunOutput) {
        let result = output.result
        self.output = output
        metrics = RunMetrics(result: result)
        windows = FaultWindow.windows(result)
        faulted = result.history.filter { [windows] op in windows.contains { op.invoke >= $0.start && op.invoke < $0.end } }
        minority = result.history.filter { FaultWindow.isOnMinoritySide($0, result) }
        majority = faulted.filter { !FaultWindow.isOnMinoritySide($0, result) }
        elections = Elections.durations(result)
        writesOK = result.history.count { operation in
            guard !operation.command.isRead, case .ok = operation.outcome else { return false }
            return true
        }
        inDoubt = output.spec.backend.kind.atomicCommit ? InDoubtMetrics(result) : nil
    }

    var fields: [String] { SummaryColumn.allCases.map(value) }

    func value(_ column: SummaryColumn) -> String {
        let spec = output.spec, result = output.result, counters = result.counters, consistency = output.consistency
        if !counters.messagesMeasured, [.messagesTotal, .messagesPerOp, .bytesTotal, .bytesPerOp, .messagesPerWrite].contains(column) { return "" }
        switch column {
        case .experiment: return spec.experiment
        case .scenario: return spec.scenario.name
        case .protocol: return spec.backend.kind.name
        case .variant: return spec.backend.variant
        case .nodes: return String(spec.scenario.nodes)
        case .seed: return String(spec.seed)
        case .opsOK: return String(metrics.opsOK)
        case .opsFailed: return String(metrics.opsFailed)
        case .opsIndeterminate: return String(metrics.opsIndeterminate)
        case .availability: return Number.fixed(metrics.availability, 4)
        case .throughput: return Number.fixed(Double(metrics.opsOK) / spec.scenario.duration.seconds, 2)
        case .latencyP50: return Number.milliseconds(metrics.latency(0.50))
        case .latencyP95: return Number.milliseconds(metrics.latency(0.95))
        case .latencyP99: return Number.milliseconds(metrics.latency(0.99))
        case .messagesTotal: return String(counters.messagesSent)
        case .messagesPerOp: return perOK(counters.messagesSent)
        case .leaderChanges: return String(counters.leaderChanges)
        case .maxUnavailable: return Number.milliseconds(metrics.maxUnavailable)
        case .recovery: return Number.milliseconds(metrics.recovery)
        case .linearizable: return consistency.linearizable.rawValue
        case .staleReads: return String(consistency.staleReads)
        case .lostWrites: return String(consistency.lostWrites)
        case .divergentKeys: return String(consistency.divergentKeys)
        case .atomicityViolations: return String(consistency.atomicityViolations)
        case .sweep: return spec.scenario.sweepLabel
        case .run: return spec.id
        case .bytesTotal: return String(counters.bytesSent)
        case .bytesPerOp: return perOK(counters.bytesSent)
        case .availabilityFaulted: return ratio(FaultWindow.availability(faulted))
        case .availabilityMajoritySide: return ratio(FaultWindow.availability(majority))
        case .availabilityMinoritySide: return ratio(FaultWindow.availability(minority))
        case .healRecovery: return Number.milliseconds(windows.last { $0.end < result.workloadEnd }?.healRecovery)
        case .elections: return String(elections.count)
        case .electionMean:
            return elections.isEmpty ? "" : Number.fixed(elections.map(\.milliseconds).reduce(0, +) / Double(elections.count), 3)
        case .electionMax: return Number.milliseconds(elections.max())
        case .messagesPerWrite: return writesOK == 0 ? "" : Number.fixed(Double(counters.messagesSent) / Double(writesOK), 2)
        case .safetyViolations: return String(result.violations.count)
        case .driver: return output.driver
        case .inDoubtTransactions: return inDoubt.map { String($0.blocked) } ?? ""
        case .inDoubtMax: return inDoubt.map { Number.milliseconds($0.longest) } ?? ""
        case .inDoubtUnresolved: return inDoubt.map { String($0.unresolved) } ?? ""
        }
    }

    private func perOK(_ count: Int) -> String { metrics.opsOK == 0 ? "" : Number.fixed(Double(count) / Double(metrics.opsOK), 2) }

    private func ratio(_ value: Double?) -> String { value.map { Number.fixed($0, 4) } ?? "" }
}
