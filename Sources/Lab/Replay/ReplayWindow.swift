import ConsensusCore
import Simulator

/// The span of a run the message diagram shows. A 30-second run sends hundreds of thousands of
/// messages; a window of about a second around what went wrong is what a reader can follow.
package struct ReplayWindow: Equatable {
    package var start: Instant
    package var end: Instant
    /// Why this window, for the page: "chosen", or what the default centred on.
    package var reason: String

    /// The default span, how much of it comes before the moment it is centred on, and how many
    /// messages a default window holds at most: a Raft cluster under load sends thousands a
    /// second, and a diagram stays readable up to a few hundred arrows.
    static let span = TimeSpan.milliseconds(500)
    static let lead = TimeSpan.milliseconds(50)
    static let messages = 400

    /// The window the options give (`--from`, `--to`; one alone gets the default span), or nil
    /// when neither is given.
    package static func given(from: TimeSpan?, to: TimeSpan?) throws -> ReplayWindow? {
        guard from != nil || to != nil else { return nil }
        let start: Instant = from.map { Instant.zero + $0 } ?? max(Instant.zero, Instant.zero + to! - span)
        let end: Instant = to.map { Instant.zero + $0 } ?? start + span
        guard start < end else { throw ReportError("--from/--to", "the window is empty: --from \(start) is not before --to \(end)") }
        return ReplayWindow(start: start, end: end, reason: "chosen with --from/--to")
    }

    /// Around the first fault, or else the first anomaly, or else the start of the run; with the
    /// moment it is centred on.
    static func byDefault(_ moments: [ReplayMoment]) -> (window: ReplayWindow, anchor: Instant) {
        let anchor = moments.first { $0.isFault } ?? moments.first { !$0.isFault }
        guard let anchor else { return (ReplayWindow(start: .zero, end: .zero + span, reason: "the start of the run (no fault and no anomaly)"), .zero) }
        let start = max(.zero, anchor.time - lead)
        return (ReplayWindow(start: start, end: start + span, reason: "around the first \(anchor.isFault ? "fault" : "anomaly"): \(anchor.label)"), anchor.time)
    }

    /// The default window cut short where its first `messages` messages have left, so that the
    /// diagram starts at the moment and shows what follows it; the trace keeps only those.
    func trimmed(_ trace: inout MessageTrace, anchor: Instant) -> ReplayWindow {
        guard trace.messages.count > Self.messages else { return self }
        let last = trace.messages.map(\.sent).sorted()[Self.messages - 1]
        var window = self
        window.end = max(last, min(anchor + Self.lead, end))
        window.reason += ", cut short after its first \(Self.messages) messages"
        trace.messages.removeAll { $0.sent > window.end }
        trace.omitted = 0
        trace.window.end = window.end
        return window
    }

    /// Checks the window against the run; a window past its end is a mistake, not an empty page.
    func check(runEnd: Instant) throws {
        guard start < runEnd else {
            throw ReportError("--from", "\(start) is at or after the end of the run (\(ReplayMoment.seconds(runEnd)) s)")
        }
    }

    func contains(_ time: Instant) -> Bool { time >= start && time <= end }

    /// Whether `[from, to]` overlaps the window.
    func overlaps(_ from: Instant, _ to: Instant) -> Bool { from <= end && to >= start }
}

/// A moment worth a window of its own: a fault, or the first anomaly of a kind.
package struct ReplayMoment: Equatable {
    package var time: Instant
    package var label: String
    package var isFault: Bool

    /// Faults (every fault step, the final heal, crashes and restarts) in time order, then the
    /// first anomaly of each kind.
    static func moments(_ result: SimulationResult, _ anomalies: [ReplayAnomaly]) -> [ReplayMoment] {
        var moments = result.events.filter(\.isFaultLike).map { ReplayMoment(time: $0.time, label: $0.label, isFault: true) }
        var kinds: Set<String> = []
        for anomaly in anomalies.sorted(by: { ($0.start ?? result.end) < ($1.start ?? result.end) }) where kinds.insert(anomaly.kind).inserted {
            moments.append(ReplayMoment(time: anomaly.start ?? result.end, label: anomaly.title, isFault: false))
        }
        return moments
    }

    static func seconds(_ time: Instant) -> String { SVG.number(time.milliseconds / 1000, digits: 3) }
}

extension EventRecord {
    /// A fault step, the final heal, or a node going down or coming back.
    var isFaultLike: Bool {
        switch event {
        case .fault, .healedForQuiescence, .crash, .restart, .restartFailed: true
        default: false
        }
    }

    /// `n2 crash: lost 3 unsynced storage operations`, `crash leader → n1` (a fault step).
    var label: String { (node.map { "\($0) \(event.kind): " } ?? "") + event.detail }
}
