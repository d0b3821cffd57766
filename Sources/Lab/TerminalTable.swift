import Checker
import ConsensusCore

/// One run's line of the table `conlab run` prints: what the run served, how available each side of
/// a partition stayed, and everything the checker found wrong — not only the linearizability
/// verdict, since a run can be linearizable on every key and still diverge or break atomicity.
struct RunLine: Sendable {
    var id: String
    var ok: Int
    /// Refused or aborted: definitely no effect, and the system did not serve it.
    var refused: Int
    /// Compare-and-sets whose expected value did not match: served, with a definite "no".
    var casMismatches: Int
    var indeterminate: Int
    var availability: Double
    /// Availability during the faults on the side with a majority of the nodes, and on the others;
    /// `nil` when no operation was on that side.
    var majoritySide: Double?
    var minoritySide: Double?
    var p50: TimeSpan?
    var p99: TimeSpan?
    var leaderChanges: Int
    var linearizable: Verdict
    var staleReads: Int
    var lostWrites: Int
    var divergentKeys: Int
    var atomicityViolations: Int
    /// Whether the checker found anything wrong with the run, or a backend reported a safety violation.
    var hasAnomalies: Bool

    init(_ row: SummaryRow) {
        let metrics = row.metrics, consistency = row.output.consistency
        id = row.output.spec.id
        ok = metrics.opsOK
        refused = metrics.opsFailed - metrics.casMismatches
        casMismatches = metrics.casMismatches
        indeterminate = metrics.opsIndeterminate
        availability = metrics.availability
        majoritySide = FaultWindow.availability(row.majority)
        minoritySide = FaultWindow.availability(row.minority)
        p50 = metrics.latency(0.5)
        p99 = metrics.latency(0.99)
        leaderChanges = row.output.result.counters.leaderChanges
        linearizable = consistency.linearizable
        staleReads = consistency.staleReads
        lostWrites = consistency.lostWrites
        divergentKeys = consistency.divergentKeys
        atomicityViolations = consistency.atomicityViolations
        hasAnomalies = row.output.hasAnomalies
    }
}

/// The terminal table of an experiment's runs, at most `width` columns wide: the figures of a run
/// on one line, its id on the line above when both do not fit, and a legend for the abbreviations.
enum TerminalTable {
    static let width = 100

    static let header = ["ok", "refused", "cas≠", "indet", "avail", "maj", "min", "p50 ms", "p99 ms", "ldr", "lin", "stale",
                         "lost", "div", "atom"]

    static let legend = """
        refused: refused or aborted, no effect   cas≠: compare-and-set that did not match (served)
        indet: no answer, may have taken effect  avail: share of operations served
        maj, min: share served during faults on the majority and on the minority side
        ldr: leader changes   lin: linearizable (yes, NO, ? = undecided)
        stale, lost, div, atom: stale reads, lost writes, divergent keys, atomicity violations
        """

    static func figures(_ line: RunLine) -> [String] {
        [String(line.ok), String(line.refused), String(line.casMismatches), String(line.indeterminate),
         percent(line.availability), line.majoritySide.map(percent) ?? "-", line.minoritySide.map(percent) ?? "-",
         milliseconds(line.p50), milliseconds(line.p99), String(line.leaderChanges), verdict(line.linearizable),
         String(line.staleReads), String(line.lostWrites), String(line.divergentKeys), String(line.atomicityViolations)]
    }

    static func render(_ lines: [RunLine]) -> [String] {
        let rows = [header] + lines.map(figures)
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        let format = { (row: [String]) in
            zip(row, widths).map { text, width in String(repeating: " ", count: width - text.count) + text }.joined(separator: " ")
        }
        let figuresWidth = format(header).count
        let idWidth = lines.map(\.id.count).max() ?? 3
        let oneLine = idWidth + 2 + figuresWidth <= width
        let pad = { (text: String) in text + String(repeating: " ", count: max(0, idWidth - text.count)) }
        var output = [oneLine ? pad("run") + "  " + format(header) : format(header)]
        for (line, row) in zip(lines, rows.dropFirst()) {
            if oneLine {
                output.append(pad(line.id) + "  " + format(row))
            } else {
                output.append(line.id)
                output.append(format(row))
            }
        }
        output += legend.split(separator: "\n").map(String.init)
        return output
    }

    static func percent(_ share: Double) -> String { Number.fixed(share * 100, 1) + "%" }

    static func milliseconds(_ span: TimeSpan?) -> String { span.map { Number.fixed($0.milliseconds, 1) } ?? "-" }

    static func verdict(_ verdict: Verdict) -> String {
        switch verdict {
        case .linearizable: "yes"
        case .notLinearizable: "NO"
        case .unknown: "?"
        }
    }
}
