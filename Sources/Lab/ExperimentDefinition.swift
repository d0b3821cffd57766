import ConsensusCore
import Foundation

/// What `conlab run FILE` runs: one scenario file (with its sweep points), or a suite file that
/// names several scenario files and runs them as one experiment with one set of outputs.
///
/// A suite file: `{"version": 1, "suite": "cap-suite", "description": "…",
/// "scenarios": ["baseline.json", "leader-crash.json"], "seeds": {"from": 1, "count": 5}}` —
/// paths relative to the suite file; `seeds`, when given, replaces every scenario's seeds, and
/// `backends` every scenario's backends (so one suite puts the same scenarios to other backends,
/// e.g. `alternatives.json` to etcd and Redis; each scenario is then validated with them). A suite
/// names scenario files only, never another suite (nor itself).
public struct ExperimentDefinition: Sendable {
    public var name: String
    public var description: String
    public var scenarios: [Scenario]
    public var isSuite: Bool

    public static func load(path: String) throws(ScenarioError) -> ExperimentDefinition {
        let document = try ScenarioFile.document(try ScenarioFile.text(at: path), file: path)
        guard document["suite"] != nil else {
            let scenarios = try ScenarioFile.scenarios(in: document, file: path)
            return ExperimentDefinition(name: scenarios[0].name, description: scenarios[0].description, scenarios: scenarios, isSuite: false)
        }
        return try suite(JSONField(value: document, path: "$", file: path))
    }

    static func suite(_ root: JSONField) throws(ScenarioError) -> ExperimentDefinition {
        let object = try root.object(allowing: ["version", "suite", "description", "scenarios", "seeds", "backends"])
        let version = try object.required("version").int(in: 1...Int.max)
        guard version == ScenarioFile.version else { throw object["version"]!.error("unsupported suite version \(version)") }
        let seeds = try object["seeds"].map { field throws(ScenarioError) in try ScenarioFile.seeds(field) }
        // Validated here first, so that a mistake is named where it was made.
        let backends = try object["backends"].map { field throws(ScenarioError) in _ = try ScenarioFile.backends(field); return field.value }
        let directory = URL(fileURLWithPath: root.file).deletingLastPathComponent()
        var scenarios: [Scenario] = []
        for item in try object.required("scenarios").array() {
            let path = directory.appendingPathComponent(try item.string()).path
            guard FileManager.default.fileExists(atPath: path) else { throw item.error("no scenario file at \(path)") }
            var document = try ScenarioFile.document(try ScenarioFile.text(at: path), file: path)
            // Suites list scenarios only: that keeps one level of seeds overrides and rules out cycles.
            guard document["suite"] == nil else {
                throw item.error(FilePaths.same(path, root.file) ? "the suite includes itself (a cycle)"
                                                                  : "\(path) is a suite; a suite lists scenario files, not other suites")
            }
            if let backends { _ = document.set(["backends"], to: backends) }
            var loaded = try ScenarioFile.scenarios(in: document, file: path)
            if let seeds { for index in loaded.indices { loaded[index].seeds = seeds } }
            guard !scenarios.contains(where: { $0.name == loaded[0].name }) else { throw item.error("scenario \"\(loaded[0].name)\" is listed twice") }
            scenarios += loaded
        }
        guard !scenarios.isEmpty else { throw root.child("scenarios", .null).error("needs at least one scenario file") }
        return ExperimentDefinition(name: try object.required("suite").string(), description: try object["description"]?.string() ?? "",
                                    scenarios: scenarios, isSuite: true)
    }
}
