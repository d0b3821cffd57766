/// The runs of one scenario point (a scenario, or one point of its sweep), by backend variant:
/// what one section of the page and one set of charts show.
struct ScenarioGroup {
    /// The runs of one backend label (`raft[read=lease]`) across seeds.
    struct Variant {
        var label: String
        var style: SeriesStyle
        var runs: [ReportData.Run]
    }

    var scenario: String
    var sweep: String
    /// File-safe and unique in the experiment: names the group's charts and its page anchor.
    var key: String
    var entry: ExperimentFile.ScenarioEntry?
    var variants: [Variant]

    var title: String { sweep.isEmpty ? scenario : "\(scenario) (\(sweep))" }
    var runs: [ReportData.Run] { variants.flatMap(\.runs) }

    /// Groups in the order their first run appears in `summary.csv`; variants likewise. A label
    /// keeps one style across the whole experiment (its rank of first appearance).
    static func groups(_ data: ReportData) -> [ScenarioGroup] {
        var styles: [String: SeriesStyle] = [:]
        var groups: [ScenarioGroup] = []
        for run in data.runs {
            let style = styles[run.label] ?? SeriesStyle(index: styles.count)
            styles[run.label] = style
            var index = groups.firstIndex { $0.scenario == run.scenario && $0.sweep == run.sweep }
            if index == nil {
                let entry = data.experiment?.scenarios.first { $0.name == run.scenario && $0.sweep == run.sweep }
                groups.append(ScenarioGroup(scenario: run.scenario, sweep: run.sweep, key: "", entry: entry, variants: []))
                index = groups.count - 1
            }
            if let variant = groups[index!].variants.firstIndex(where: { $0.label == run.label }) {
                groups[index!].variants[variant].runs.append(run)
            } else {
                groups[index!].variants.append(Variant(label: run.label, style: style, runs: [run]))
            }
        }
        var used: Set<String> = ["suite"]
        for index in groups.indices {
            let base = groups[index].title.fileSafe
            var key = base, suffix = 2
            while used.contains(key) { key = "\(base)-\(suffix)"; suffix += 1 }
            used.insert(key)
            groups[index].key = key
        }
        return groups
    }

    /// Every variant of the experiment in style order (cross-scenario charts).
    static func allVariants(_ groups: [ScenarioGroup]) -> [Variant] {
        var variants: [Variant] = []
        for group in groups {
            for variant in group.variants {
                if let index = variants.firstIndex(where: { $0.label == variant.label }) { variants[index].runs += variant.runs } else { variants.append(variant) }
            }
        }
        return variants.sorted { $0.style.index < $1.style.index }
    }
}
