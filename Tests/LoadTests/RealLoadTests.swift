import ConsensusCore
import Foundation
import Glibc
import Load
import Runtime
import Server
import Testing

/// `conlab load` against real servers: a 3-node Raft cluster of `conlab serve` processes (the
/// built `.build/debug/conlab`), and a 3-member etcd when `etcd` is installed. Each says when it
/// skipped, and why. About a second of load each.
@Suite(.serialized) struct RealLoadTests {
    /// The built `conlab` beside the test bundle, or `nil` after saying why the test skips.
    static func conlab(_ test: String) -> String? {
        let path = ((NodeProcesses.currentExecutable() as NSString).deletingLastPathComponent as NSString).appendingPathComponent("conlab")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("RealLoadTests.\(test) skipped: no conlab executable at \(path): build it with `swift build --product conlab`")
            return nil
        }
        return path
    }

    /// Runs `conlab` with `arguments`; its exit status and both outputs together. Started with
    /// `posix_spawn` and waited for by pid: Foundation's `Process` learns of an exit from a
    /// descriptor the child inherits, which the nodes `cluster up` starts inherit too and keep open.
    static func run(_ conlab: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let path = NSTemporaryDirectory() + "conlab-output-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pid = try NodeProcesses.spawn(conlab, arguments, logFile: path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exited, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    /// A port base for `conlab cluster up` whose client ports (base+1…) and peer ports
    /// (base+101…) are all free, below the ephemeral range.
    static func freePortBase(nodes: Int) throws -> Int {
        while true {
            let base = Int(try LoopbackPorts.free(1)[0]) - 1
            let ports = (1...nodes).flatMap { [base + $0, base + 100 + $0] }
            if ports.allSatisfy({ $0 < 32_768 }), try ports.allSatisfy({ try LoopbackPorts.isFree(UInt16($0)) }) { return base }
        }
    }

    static func temporaryFolder(_ name: String) -> String {
        NSTemporaryDirectory() + "conlab-\(name)-\(UUID().uuidString.prefix(8))"
    }

    static func expectClean(_ result: LoadResult) {
        #expect(result.ok > 0, "operations succeeded:\n\(result.summary)")
        #expect(result.errors.isEmpty, "no errors:\n\(result.summary)")
        let latency = result.latency
        #expect(latency.map { $0.p50 <= $0.p90 && $0.p90 <= $0.p99 && $0.p99 <= $0.p999 && $0.p999 <= $0.max } == true,
                "latencies ordered: \(String(describing: latency))")
    }

    @Test func aRaftClusterOfThreeProcesses() throws {
        guard let conlab = Self.conlab("aRaftClusterOfThreeProcesses") else { return }
        let directory = Self.temporaryFolder("load-raft")
        let base = try Self.freePortBase(nodes: 3)
        var passed = false
        defer {
            _ = try? Self.run(conlab, ["cluster", "down", "--dir", directory, "--grace", "5"])
            if passed { try? FileManager.default.removeItem(atPath: directory) }
        }
        let up = try Self.run(conlab, ["cluster", "up", "--backend", "raft", "--dir", directory, "--port-base", "\(base)"])
        try #require(up.status == 0, "cluster up:\n\(up.output)")
        let target = "resp://" + (1...3).map { "127.0.0.1:\(base + $0)" }.joined(separator: ",")
        let csv = directory + "/load.csv"
        var options = try LoadOptions(arguments: ["--target", target, "--clients", "4", "--duration", "1s", "--warmup", "200ms",
                                                  "--mix", "put=1,get=1,cas=1,append=1,del=1", "--keys", "100", "--csv", csv])
        options.timeout = .seconds(5)
        try LoadCSV.prepare(csv)
        let result = try LoadRunner.run(options)
        Self.expectClean(result)
        #expect(result.latencyByKind.map(\.kind) == [.put, .get, .cas, .append, .del])
        #expect(result.latencyByKind.allSatisfy { ($0.summary?.count ?? 0) > 0 }, "every operation of the mix ran:\n\(result.summary)")
        try LoadCSV.append(result, to: csv)
        // The command itself: a second, shorter run appends its row under the same header.
        let command = try Self.run(conlab, ["load", "--target", target, "--clients", "4", "--duration", "300ms", "--warmup", "0s",
                                            "--mix", "put", "--csv", csv])
        #expect(command.status == 0, "conlab load:\n\(command.output)")
        #expect(command.output.contains("4 clients, mix put"))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0] == LoadCSV.columns.joined(separator: ",")[...], "\(lines)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("\"\(target)\",4,") })
        passed = true
    }

    @Test func etcdThroughItsGateway() throws {
        // etcd is optional: Debian's `etcd-server` package installs it.
        guard let etcd = EtcdCluster.executable() else {
            print("RealLoadTests.etcdThroughItsGateway skipped: no etcd on PATH; install it with `apt-get install -y etcd-server`")
            return
        }
        let directory = Self.temporaryFolder("load-etcd")
        let cluster = try EtcdCluster.start(executable: etcd, members: 3, directory: directory)
        var passed = false
        defer { cluster.stop(removingFiles: passed) }
        #expect(cluster.members.allSatisfy { $0.pid != nil })
        var options = LoadOptions(target: cluster.target)
        options.clients = 4
        options.duration = .seconds(1)
        options.warmup = .milliseconds(200)
        options.mix = try OperationMix(parsing: "put=1,get=1,cas=1,append=1,del=1")
        options.keys = 100
        options.timeout = .seconds(5)
        let result = try LoadRunner.run(options)
        Self.expectClean(result)
        #expect(result.latencyByKind.allSatisfy { ($0.summary?.count ?? 0) > 0 }, "every operation of the mix ran:\n\(result.summary)")
        passed = true
    }

    @Test func exitStatuses() throws {
        guard let conlab = Self.conlab("exitStatuses") else { return }
        let port = try LoopbackPorts.free(1)[0]
        let unreachable = try Self.run(conlab, ["load", "--target", "etcd://127.0.0.1:\(port)", "--duration", "100ms"])
        #expect(unreachable.status == 1)
        #expect(unreachable.output.contains("cannot reach etcd at 127.0.0.1:\(port)") && unreachable.output.contains("Connection refused"),
                "\(unreachable.output)")
        let bad = try Self.run(conlab, ["load", "--target", "resp://127.0.0.1:7001", "--value-bytes", "lots"])
        #expect(bad.status == 2)
        #expect(bad.output.contains("--value-bytes: 'lots' is not an integer"), "\(bad.output)")
        let help = try Self.run(conlab, ["load", "--help"])
        #expect(help.status == 0 && help.output.contains("p50_us, p90_us, p99_us, p999_us, max_us"))
    }
}
