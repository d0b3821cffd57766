import ConsensusCore
import Foundation
@testable import Lab
import Simulator
import Testing

/// `conlab replay`: a small Raft run whose leader crashes at 1 s and restarts at 2 s, replayed
/// with its messages traced.
@Suite final class ReplayTests {
    let scratch: URL
    let scenario: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        scenario = scratch.appendingPathComponent("crash.json").path
        try Data(#"""
        {"version": 1, "name": "crash", "description": "The leader crashes at 1 s and restarts at 2 s.", "nodes": 3, "duration": "3s",
         "quiescence": "300ms", "seeds": [1], "backends": ["raft", "unreplicated"], "workload": {"clientsPerNode": 1},
         "faults": [{"at": "1s", "crash": "leader"}, {"at": "2s", "restart": "crashed"}]}
        """#.utf8).write(to: URL(fileURLWithPath: scenario))
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    func raft() throws -> ReplayTarget { try ReplayTarget.scenario(file: scenario, backend: "raft", seed: nil) }

    /// The default window starts just before the crash: the leader's appends and heartbeats, the
    /// crash on its lane, the votes of the election that follows, and each client's lane.
    @Test func theDefaultWindowShowsTheCrashAndTheElectionAfterIt() throws {
        let model = Replay.replay(try raft(), window: nil, limit: ReplayRequest.defaultLimit)
        let crash = try #require(model.result.events.first { if case .crash = $0.event { true } else { false } })
        #expect(model.window.start == crash.time - ReplayWindow.lead)
        let kinds = Set(model.trace.messages.map(\.kind))
        #expect(kinds.isSuperset(of: ["APPEND_ENTRIES", "HEARTBEAT", "REQUEST_VOTE", "REQUEST_VOTE_REPLY"]), "kinds: \(kinds.sorted())")
        #expect(model.trace.messages.allSatisfy { $0.sent <= model.window.end && ($0.arrival ?? $0.sent) >= model.window.start })
        // Messages to the crashed leader reach a node that is down.
        #expect(model.trace.messages.contains { if case .receiverDown = $0.fate { $0.to == crash.node } else { false } })
        let page = ReplayPage.html(model)
        for kind in ["APPEND_ENTRIES", "HEARTBEAT", "REQUEST_VOTE"] { #expect(page.contains("<g class=\"msg\" data-kind=\"\(kind)\">")) }
        #expect(page.contains("✕ crash"))
        #expect(page.contains("clients (→ the node each is pinned to)"))
        for client in Set(model.result.history.filter { model.window.overlaps($0.invoke, $0.complete ?? model.result.end) }.map(\.client)) {
            #expect(page.contains(">\(client)</text>"), "a lane for \(client)")
        }
        #expect(page.contains("--from 0.95s --to 1.45s"), "the page says how to pick a window around the crash")
        let data = Data(page.utf8)
        #expect(XMLElements.parse(data) != nil, "the page is well-formed XML")
    }

    /// `--from`/`--to` choose the window: nothing outside it is drawn, and a crash outside it is not marked.
    @Test func theWindowOptionsSelectWhatIsDrawn() throws {
        let window = try #require(try ReplayWindow.given(from: .milliseconds(300), to: .milliseconds(450)))
        let model = Replay.replay(try raft(), window: window, limit: ReplayRequest.defaultLimit)
        #expect(model.window == window)
        #expect(!model.trace.messages.isEmpty)
        #expect(model.trace.messages.allSatisfy { $0.sent <= window.end && ($0.arrival ?? $0.sent) >= window.start })
        #expect(model.trace.messages.allSatisfy { $0.kind.hasPrefix("HEARTBEAT") || $0.kind.hasPrefix("APPEND_ENTRIES") })
        let page = ReplayPage.html(model)
        #expect(page.contains("<h2>Window: 0.3–0.45 s</h2>"))
        #expect(!page.contains("✕ crash"))
        #expect(page.contains("chosen with --from/--to"))
        let from = try #require(try ReplayWindow.given(from: .seconds(2), to: nil))
        #expect(from.end == .zero + .milliseconds(2_500), "--from alone shows the default span")
    }

    /// Tracing draws no randomness and changes no event: the traced run writes the same bytes.
    @Test func tracingLeavesTheRunUnchanged() throws {
        let spec = try raft().spec
        let plain = Runner.execute(spec)
        let traced = Replay.replay(try raft(), window: nil, limit: 50)
        #expect(ReportWriter.renderedRun(plain) == ReportWriter.renderedRun(traced.output))
        #expect(plain.result.messageTrace == nil)
    }

    /// A window with more messages than `--limit` draws that many and says how many it left out.
    @Test func aCappedWindowSaysSo() throws {
        let window = ReplayWindow(start: .zero, end: .zero + .seconds(1), reason: "test")
        let model = Replay.replay(try raft(), window: window, limit: 25)
        #expect(model.trace.messages.count == 25)
        #expect(model.trace.omitted > 0)
        let page = ReplayPage.html(model)
        #expect(page.contains("<strong>capped</strong>: \(model.trace.omitted) more in the window not drawn"))
        #expect(page.components(separatedBy: "<g class=\"msg\"").count - 1 == 25)
    }

    /// A run folder is found again in its scenario file by its id and seed, and its recorded
    /// history confirms that the replay is the same run; a real run is refused.
    @Test func aRunFolderIsReplayedAndARealRunRefused() throws {
        let out = scratch.appendingPathComponent("out").path
        _ = try Experiment.run(ExperimentRequest(scenarioPath: scenario, outputDirectory: out, backends: ["raft"], jobs: 1))
        let target = try ReplayTarget.run(directory: out + "/runs/raft_s1", scenarioFile: scenario)
        #expect(target.spec.id == "raft_s1")
        #expect(Replay.replay(target, window: nil, limit: 100).reproduced == true)
        #expect(throws: (any Error).self) { try ReplayTarget.run(directory: out + "/runs/raft_s1", scenarioFile: nil) }
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
        // The driver column says how the run was made (later columns may follow it).
        try summary.replacingOccurrences(of: ",sim\n", with: ",real\n").replacingOccurrences(of: ",sim,", with: ",real,")
            .write(toFile: out + "/summary.csv", atomically: true, encoding: .utf8)
        #expect {
            try ReplayTarget.run(directory: out + "/runs/raft_s1", scenarioFile: scenario)
        } throws: { error in
            "\(error)".contains("a real run (driver column of summary.csv): only a simulated run can be replayed")
        }
    }
}
