import Foundation
import Testing

/// The built `conlab` run as a user runs it: exit status and standard error for bad input. A
/// subprocess, so that a trap (SIGILL) or a hang is a failed expectation instead of a dead test run.
@Suite final class CommandLineTests {
    struct Outcome {
        var status: Int32
        var stderr: String
        /// Killed by a signal (a trap) or by the time limit (a hang).
        var crashed: Bool
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/debug/conlab`, which `swift build --build-tests` and `swift test` build.
    static let executable = root.appendingPathComponent(".build/debug/conlab")

    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try write("ok.json", #"{"version": 1, "name": "ok", "nodes": 3, "duration": "1s", "quiescence": "200ms", "seeds": [1, 2], "backends": ["unreplicated"], "workload": {"clientsPerNode": 1}}"#)
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: scratch.appendingPathComponent(name))
    }

    /// Runs conlab in the scratch folder, killing it after `limit` seconds.
    func conlab(_ arguments: String..., limit: Double = 60) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let hung = process.isRunning
        if hung { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, stderr: text, crashed: hung || process.terminationReason == .uncaughtSignal)
    }

    /// Exit status 2 with exactly this message, and nothing of Foundation's.
    func expectBadInput(_ outcome: Outcome, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!outcome.crashed, sourceLocation: sourceLocation)
        #expect(outcome.status == 2, sourceLocation: sourceLocation)
        #expect(outcome.stderr == "conlab: \(message)\n", sourceLocation: sourceLocation)
        #expect(!outcome.stderr.contains("NSCocoaErrorDomain") && !outcome.stderr.contains("could not be completed"), sourceLocation: sourceLocation)
    }

    @Test func runLimitsAreStatedInsteadOfTrappingOrHanging() throws {
        try write("huge.json", #"{"version": 1, "duration": "9999999999999999999s", "backends": ["unreplicated"]}"#)
        try write("long.json", #"{"version": 1, "duration": "1000000000s", "backends": ["unreplicated"]}"#)
        try write("fsync.json", #"{"version": 1, "duration": "1s", "backends": ["unreplicated"], "storage": {"fsyncLatency": "9000000000000s"}}"#)
        try write("retry.json", #"{"version": 1, "duration": "1s", "backends": ["unreplicated"], "workload": {"retry": "1us"}}"#)
        let tooLong = "longer than the longest run conlab simulates (21600s, 6 hours)"
        expectBadInput(try conlab("run", "huge.json", "--quiet"), #"huge.json: duration: "9999999999999999999s" is \#(tooLong)"#)
        expectBadInput(try conlab("run", "long.json", "--quiet"), #"long.json: duration: "1000000000s" is \#(tooLong)"#)
        expectBadInput(try conlab("run", "fsync.json", "--quiet"), #"fsync.json: storage.fsyncLatency: "9000000000000s" is \#(tooLong)"#)
        expectBadInput(try conlab("run", "retry.json", "--quiet"), "retry.json: workload.retry: must be at least 1ms, found 1us")
    }

    /// `conlab shard` names what is wrong before it talks to any cluster: a missing option or
    /// command, a cluster file that is not a shard group's, a sharded scenario where only the
    /// simulator can run one.
    @Test func shardAndShardedScenariosRefuseBadInput() throws {
        try write("meta.json", #"{"version": 1, "cluster": 5, "secret": "sixteen bytes at least", "backend": "raft", "nodes": [{"id": "n1", "peer": 7101, "client": 7001}]}"#)
        try write("g1.json", #"{"version": 1, "cluster": 6, "secret": "sixteen bytes at least", "backend": "raft", "shardGroup": {"group": "g1", "buckets": 8}, "nodes": [{"id": "n1", "peer": 7102, "client": 7002}]}"#)
        func refused(_ outcome: Outcome, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(outcome.status == 2 && !outcome.crashed, sourceLocation: sourceLocation)
            #expect(outcome.stderr.hasPrefix("conlab: ") && outcome.stderr.contains(words), "\(outcome.stderr)", sourceLocation: sourceLocation)
        }
        #expect(try conlab("shard").status == 2)
        refused(try conlab("shard", "--group", "g1.json", "show"), "shard needs --meta META.json")
        refused(try conlab("shard", "--meta", "meta.json", "--group", "g1.json"), "shard needs a command: join, leave, move, settle or show")
        refused(try conlab("shard", "--meta", "meta.json", "--group", "meta.json", "show"), "meta.json: no \"shardGroup\": not a server group")
        refused(try conlab("shard", "--meta", "g1.json", "--group", "g1.json", "show"), "g1.json: a metaserver is a plain cluster; drop its \"shardGroup\"")
        refused(try conlab("shard", "--meta", "meta.json", "--group", "g1.json", "move", "9", "g1"), "move takes a bucket (0…7) and a group: move 3 g2")
        refused(try conlab("shard", "--meta", "meta.json", "--group", "g1.json", "split", "g1"), "unknown shard command 'split'")
        refused(try conlab("shard", "--meta", "meta.json", "--group", "g1.json", "join", "g1", "g1"), "join names a group twice")
        refused(try conlab("cluster", "up", "--backend", "raft", "--dir", "c0", "--shard-group", "g1", "--buckets", "0"), "shardGroup.buckets")
        refused(try conlab("cluster", "up", "--backend", "zab", "--dir", "c1", "--shard-group", "g1", "--buckets", "4"), "Raft")
        #expect(!FileManager.default.fileExists(atPath: path("c0")) && !FileManager.default.fileExists(atPath: path("c1")), "nothing written")
        try write("sharded.json", #"{"version": 1, "duration": "1s", "backends": ["raft"], "sharded": {}}"#)
        refused(try conlab("replay", "sharded.json"), "sharded.json: sharded: conlab replay draws the messages of one cluster")
    }

    /// A planted bug the backend does not have is bad input that lists those it has.
    @Test func anUnknownPlantedBugIsBadInput() throws {
        try write("bug.json", #"{"version": 1, "duration": "1s", "backends": [{"protocol": "raft", "options": {"bug": "figure9"}}]}"#)
        expectBadInput(try conlab("run", "bug.json", "--quiet"),
                       #"bug.json: backends[0].options.bug: expected one of "none", "figure8", "volatile-vote", "no-election-restriction", "unbounded-lease", "stale-leader-reads", found "figure9""#)
    }

    /// `bench --help` explains the benchmarks; arguments it does not know are bad input, never
    /// silently ignored (a typo in a cluster size would otherwise run the default sizes).
    @Test func replayRefusesBadArgumentsWithExitStatus2() throws {
        #expect(try conlab("replay", "--help").status == 0)
        expectBadInput(try conlab("replay", "ok.json", "--backend", "unreplicated", "--from", "2s", "--to", "1s"),
                       "--from/--to: the window is empty: --from 2s is not before --to 1s")
        expectBadInput(try conlab("replay", "ok.json", "--backend", "unreplicated", "--seed", "1", "--from", "9s"),
                       "--from: 9s is at or after the end of the run (2.201 s)")
        expectBadInput(try conlab("replay", "ok.json", "--backend", "unreplicated", "--from", "4"),
                       #"--from: "4" is not a duration; write a number with a unit: "250us", "150ms", "10s", "2m""#)
        expectBadInput(try conlab("replay", "ok.json", "--backend", "raft"), "ok.json: no run matches --backend raft")
        expectBadInput(try conlab("replay", "ok.json", "--limit", "0"), "--limit takes a positive integer")
        expectBadInput(try conlab("replay", "runs/x", "--seed", "1"),
                       "--backend and --seed pick a run of a scenario file; runs/x is a run folder (one run) or no file at all")
        expectBadInput(try conlab("replay", "ok.json"), "ok.json: 2 runs match (unreplicated_s1, unreplicated_s2); pick one with --backend "
                       + "(one of unreplicated) and --seed (one of 1, 2)")
        expectBadInput(try conlab("replay", "."), ".: not a run folder: replay takes EXPERIMENT/runs/RUN_ID (a folder `conlab run` wrote), "
                       + "or a scenario file with --backend and --seed")
        let real = Self.root.appendingPathComponent("Reports/sim-vs-real/real/runs/baseline_raft_s1").path
        expectBadInput(try conlab("replay", real), "\(real): a real run (driver column of summary.csv): only a simulated run can be replayed message by "
                       + "message; run the scenario again with `conlab run FILE --real --seed N`, or replay the simulator's run")
        let missing = try conlab("replay")
        #expect(missing.status == 2 && missing.stderr.hasPrefix("conlab: replay needs a run folder or a scenario file"))
    }

    @Test func benchExplainsItselfAndRefusesWhatItDoesNotKnow() throws {
        let help = try conlab("bench", "--help")
        #expect(help.status == 0 && !help.crashed)
        for arguments in [["bench", "raft", "3x"], ["bench", "raft", "--runs", "zero"], ["bench", "nonsense"]] {
            let outcome = try conlab(arguments[0], arguments[1], arguments.count > 2 ? arguments[2] : "--writes",
                                     arguments.count > 3 ? arguments[3] : "--writes")
            #expect(!outcome.crashed && outcome.status == 2, "\(arguments)")
            #expect(outcome.stderr.contains("conlab bench [sim | raft"), "\(arguments): \(outcome.stderr)")
        }
    }

    @Test func unusableOutputFoldersAreRefusedBeforeSimulating() throws {
        try write("a-file", "")
        expectBadInput(try conlab("run", "ok.json", "--out", "a-file", "--quiet"), "--out 'a-file': is a file, not a folder")
        expectBadInput(try conlab("run", "ok.json", "--out", "/proc/conlab", "--quiet"), "--out '/proc/conlab': cannot create /proc/conlab: No such file or directory")
        expectBadInput(try conlab("run", "ok.json", "--out", "", "--quiet"), "--out '': an empty path names no folder")
        expectBadInput(try conlab("run", "ok.json", "--out", "--quiet"), "--out needs a value, found the option '--quiet'")
        #expect(!FileManager.default.fileExists(atPath: path("--quiet")))
        expectBadInput(try conlab("run", "ok.json", "--seeds", "", "--quiet"), "--seeds needs at least one seed: 1,2,3 or 1-10")
    }

    @Test func unusableScenarioFilesAreNamed() throws {
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: true)
        try Data(Array(#"{"version": 1, "name": ""#.utf8) + [0xFF, 0x22, 0x7D]).write(to: scratch.appendingPathComponent("bytes.json"))
        try write("suite.json", #"{"version": 1, "suite": "s", "scenarios": ["suite.json"]}"#)
        expectBadInput(try conlab("run", "/dev/null"), "/dev/null: $: is not a regular file (a device, pipe or socket)")
        expectBadInput(try conlab("run", "folder"), "folder: $: is a directory, not a file")
        expectBadInput(try conlab("run", "bytes.json"), "bytes.json: $: not valid UTF-8: byte 0xFF at offset 24 (line 1)")
        expectBadInput(try conlab("run", "suite.json"), "suite.json: scenarios[0]: the suite includes itself (a cycle)")
        let check = try conlab("check", "folder")
        #expect(check.status == 2 && check.stderr == "error: folder: is a directory, not a file\n")
    }

    @Test func listNamesAMissingPathAndDescribesAFile() throws {
        expectBadInput(try conlab("list", "/nonexistent"), "list: /nonexistent: no such file or folder")
        let one = try conlab("list", "ok.json")
        #expect(one.status == 0 && one.stderr.isEmpty)
        let device = try conlab("list", "/dev/null")
        #expect(device.status == 2)
    }

    @Test func mergeRefusesItsInputsAsOutputAndNamesABadManifest() throws {
        for shard in 1...2 {
            let outcome = try conlab("run", "ok.json", "--out", "s\(shard)", "--shard", "\(shard)/2", "--quiet")
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        let summary = try Data(contentsOf: scratch.appendingPathComponent("s1/summary.csv"))
        expectBadInput(try conlab("merge", "s1", "s2", "--out", "s1"), "--out s1 is the shard folder s1; merge into a new folder")
        expectBadInput(try conlab("merge", "s1", "s2", "--out", "./s2/../s1/"), "--out ./s2/../s1/ is the shard folder s1; merge into a new folder")
        #expect(try Data(contentsOf: scratch.appendingPathComponent("s1/summary.csv")) == summary)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("s1/runs")).count == 1)
        try write("s2/shard.json", "{corrupt")
        expectBadInput(try conlab("merge", "s1", "s2", "--out", "merged"),
                       "\(path("s2/shard.json")): invalid JSON at line 1, column 2: expected a member name in double quotes")
        try write("s2/shard.json", #"{"experiment": "ok", "shard": 0, "of": 0, "total": -3, "runs": []}"#)
        expectBadInput(try conlab("merge", "s1", "s2", "--out", "merged"), "\(path("s2/shard.json")): of: expected an integer from 1 to 1000000, found 0")
    }

    /// `hunt` names the option at fault, exit status 2, before any run; a finished hunt says
    /// with its exit status whether it found a violation.
    @Test func huntRefusesBadInputAndSaysWhatItFound() throws {
        expectBadInput(try conlab("hunt", "--runs", "5"), "hunt needs --backend NAME\n\n" + (try huntUsage()))
        expectBadInput(try conlab("hunt", "--backend", "paxos"),
                       "--backend: unknown backend \"paxos\"; known backends: unreplicated, raft, zab, 2pc, 3pc, primary-backup")
        expectBadInput(try conlab("hunt", "--backend", "zab[read=eventually]"),
                       #"--backend zab[read=eventually]: read: expected one of "local", "sync", found "eventually""#)
        expectBadInput(try conlab("hunt", "--backend", "raft", "--runs", "0"), "--runs takes a positive integer, found '0'")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--runs", "5", "--time", "1m"), "give --runs or --time, not both")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--time", "soon"), "--time: 'soon' is not a duration such as 90s or 10m")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--shard", "3/2"), "--shard takes I/N with 1 ≤ I ≤ N, e.g. 3/8")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--promise", "fast"),
                       "--promise: unknown promise 'fast'; promises: linearizable, durable, convergent, atomic, liveAfterHeal, invariantsHold")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--from", "-1"), "--from: '-1' is not a seed (a non-negative integer)")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--from", "9007199254740993"), "--from: at most 4503599627370496, found 9007199254740993")
        try write("file", "")
        expectBadInput(try conlab("hunt", "--backend", "raft", "--out", "file"), "--out 'file': is a file, not a folder")
        #expect(try conlab("hunt", "--backend", "primary-backup", "--runs", "2", "--promise", "linearizable", "--shrink-runs", "0", "--out", "found").status == 1)
        #expect(try conlab("hunt", "--backend", "unreplicated", "--runs", "1", "--out", "none").status == 0)
    }

    /// The usage text `hunt --help` prints, which a missing --backend repeats.
    func huntUsage() throws -> String {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["hunt", "--help"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).dropLast())
    }
}
