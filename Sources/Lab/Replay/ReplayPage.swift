import ConsensusCore

/// The replay page: the run in words, the whole run's roles with the window marked, the
/// message diagram of the window, and the anomalies. Self-contained like `index.html` (inline
/// CSS and SVG; a few lines of script only hide and show message types).
enum ReplayPage {
    static func html(_ model: ReplayModel) -> String {
        let spec = model.spec, escape = ReportPage.escape
        var out = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\"/>",
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>",
                   "<title>\(escape(spec.id)) — ConsensusLab replay</title>", "<style>", ReportPage.style, style, "</style>", "</head>", "<body>",
                   "<h1>Replay of \(escape(spec.id))</h1>"]
        if !spec.scenario.description.isEmpty { out.append("<p class=\"lead\">\(escape(spec.scenario.description))</p>") }
        out += facts(model)
        out += windowSection(model)
        // Inline only: a replay page writes no chart files to link to.
        out.append("<figure>\n\(ReplayOverviewChart.chart(model).svg)</figure>")
        out.append("<h2>Messages and operations</h2>")
        out.append(kindToggles(model))
        out.append("<figure class=\"diagram\">\n\(SpaceTimeChart.chart(model).svg)</figure>")
        out += anomalies(model)
        out += ["<footer>Written by <code>\(escape(model.target.command))</code>: the simulation run again from its scenario, backend and seed, "
                + "with message tracing on.</footer>", "<script>", script, "</script>", "</body>", "</html>"]
        return out.joined(separator: "\n") + "\n"
    }

    static func facts(_ model: ReplayModel) -> [String] {
        let spec = model.spec, scenario = spec.scenario, escape = ReportPage.escape, history = model.result.history
        let ok = history.count { if case .ok = $0.outcome { true } else { false } }
        let failed = history.count { if case .fail = $0.outcome { true } else { false } }
        let faults = ExperimentFile.timeline(scenario)
        var kinds: [String: Int] = [:]
        for anomaly in model.anomalies { kinds[anomaly.kind, default: 0] += 1 }
        let found = kinds.isEmpty ? "none" : kinds.keys.sorted().map { "\(kinds[$0]!) \($0)" }.joined(separator: ", ")
        let clients = Set(history.map(\.client)).count
        let reproduced: String = switch model.reproduced {
        case true?: "yes: the replay's history is byte for byte the run's <code>history.jsonl</code>"
        case false?: "<strong>no</strong>: the replay's history differs from the run's <code>history.jsonl</code> (the code or the scenario "
            + "file changed since the run); this page shows the replay"
        case nil: "not checked: no recorded <code>history.jsonl</code> to compare with"
        }
        return ["<dl>",
                "<dt>Run</dt><dd>scenario \(escape(scenario.name))\(scenario.sweepLabel.isEmpty ? "" : " (\(escape(scenario.sweepLabel)))"), "
                    + "backend <code>\(escape(spec.backend.label))</code>, seed \(spec.seed)</dd>",
                "<dt>Cluster</dt><dd>\(scenario.nodes) nodes, \(clients) clients for \(scenario.duration), run ends at "
                    + "\(ReplayMoment.seconds(model.result.end)) s</dd>",
                "<dt>Faults</dt><dd>" + (faults.isEmpty ? "none" : "<ol>" + faults.map { "<li>\(escape($0))</li>" }.joined() + "</ol>") + "</dd>",
                "<dt>Operations</dt><dd>\(ok) ok, \(failed) failed, \(history.count - ok - failed) indeterminate; linearizable: "
                    + "\(model.output.consistency.linearizable.rawValue)</dd>",
                "<dt>Anomalies</dt><dd>\(escape(found))</dd>",
                "<dt>Same run?</dt><dd>\(reproduced)</dd>",
                "</dl>"]
    }

    static func windowSection(_ model: ReplayModel) -> [String] {
        let window = model.window, escape = ReportPage.escape, trace = model.trace
        let from = ReplayMoment.seconds(window.start), to = ReplayMoment.seconds(window.end)
        var out = ["<h2>Window: \(from)–\(to) s</h2>",
                   "<p>The diagram shows \(from) s to \(to) s of the run (\(escape(window.reason))): \(trace.messages.count) messages"
                   + (trace.omitted > 0 ? ", <strong>capped</strong>: \(trace.omitted) more in the window not drawn (shorten the window, or raise --limit)" : "")
                   + ". Another window, e.g. the next half second: <code>\(escape(model.target.command)) --from \(to)s --to "
                   + "\(ReplayMoment.seconds(min(window.end + ReplayWindow.span, model.result.end)))s</code> (any two times of the run before "
                   + "\(ReplayMoment.seconds(model.result.end)) s, as 4.25s or 4250ms).</p>"]
        guard !model.moments.isEmpty else { return out }
        out.append("<p>Moments worth a look:</p>")
        out.append("<ul class=\"moments\">")
        for moment in model.moments.prefix(12) {
            let start = max(.zero, moment.time - ReplayWindow.lead)
            let command = "\(model.target.command) --from \(ReplayMoment.seconds(start))s --to \(ReplayMoment.seconds(start + ReplayWindow.span))s"
            out.append("<li>\(ReplayMoment.seconds(moment.time)) s \(escape(moment.label)): <code>\(escape(command))</code></li>")
        }
        if model.moments.count > 12 { out.append("<li>… and \(model.moments.count - 12) more (events.csv)</li>") }
        out.append("</ul>")
        return out
    }

    /// A checkbox per message type drawn, to hide the chatter (heartbeats) and follow the rest.
    static func kindToggles(_ model: ReplayModel) -> String {
        var counts: [String: Int] = [:]
        for message in model.trace.messages { counts[message.kind, default: 0] += 1 }
        let kinds = model.spec.backend.kind.messageKinds.filter { counts[$0] != nil }
        guard !kinds.isEmpty else { return "<p>No messages between nodes in this window.</p>" }
        return "<p class=\"kinds\">Show: " + kinds.map { kind in
            "<label><input type=\"checkbox\" checked=\"checked\" data-kind=\"\(ReportPage.escape(kind))\"/> \(ReportPage.escape(kind)) (\(counts[kind]!))</label>"
        }.joined(separator: " ") + "</p>"
    }

    static func anomalies(_ model: ReplayModel) -> [String] {
        var out = ["<h2>Anomalies</h2>"]
        guard !model.anomalies.isEmpty else { return out + ["<p>The checker found none.</p>"] }
        out.append("<p>\(model.anomalies.count) found; those in the window are marked in the diagram (operations outlined, a bar in the right column).</p>")
        out.append("<ul class=\"anomalies\">")
        for anomaly in model.anomalies.prefix(50) {
            let when = anomaly.start.map { start in "\(ReplayMoment.seconds(start))–\(ReplayMoment.seconds(anomaly.end ?? start)) s" } ?? "after the run"
            let shown = anomaly.start.map { model.window.overlaps($0, anomaly.end ?? $0) } ?? false
            out.append("<li\(shown ? " class=\"shown\"" : "")><b>\(ReportPage.escape(anomaly.title))</b> (\(when)\(shown ? ", in the window" : "")): "
                       + ReportPage.escape(anomaly.explanation)
                       + (anomaly.operations.isEmpty ? ""
                          : "<br/><span class=\"ops\">operations: \(anomaly.operations.map(String.init).joined(separator: ", "))</span>")
                       + "</li>")
        }
        if model.anomalies.count > 50 { out.append("<li>… and \(model.anomalies.count - 50) more</li>") }
        out.append("</ul>")
        return out
    }

    static let style = """
    body { max-width: 1520px; }
    figure.diagram svg { max-width: none; }
    figure.diagram { overflow-x: auto; }
    .kinds label { margin-right: 1em; white-space: nowrap; font-size: 0.9em; }
    .moments code { font-size: 0.85em; }
    .anomalies li.shown { background: #F5E8F3; }
    """

    /// Hides the arrows of a message type whose box is unticked.
    static let script = """
    document.querySelectorAll('.kinds input').forEach(function (box) {
      box.addEventListener('change', function () {
        document.querySelectorAll('g.msg[data-kind="' + box.dataset.kind + '"]').forEach(function (arrow) {
          arrow.style.display = box.checked ? '' : 'none';
        });
      });
    });
    """
}
