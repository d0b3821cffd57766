import Foundation
import Glibc
import Server
import Testing

/// The stock Redis tools against a real cluster: `redis-cli` (with a password, as a user who set
/// `requirepass` runs it) and `redis-benchmark` (pipelined). Debian's `redis-tools`; skipped,
/// saying so and how to install it, where they are missing.
@Suite(.serialized) struct RedisToolsTests {
    static func tool(_ name: String) -> String? {
        let path = "/usr/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("RedisToolsTests skipped: \(name) is not installed; install it with `apt-get install -y redis-tools`")
            return nil
        }
        return path
    }

    /// Runs `tool` with `arguments`; its standard output and error, and its exit status.
    static func run(_ tool: String, _ arguments: [String]) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: output, as: UTF8.self), process.terminationStatus)
    }

    @Test func redisCliNeedsThePasswordAndThenWorksThroughAnyNode() throws {
        guard let cli = Self.tool("redis-cli"), let conlab = RealClusterTests.conlab() else { return }
        let password = "a password for the redis-cli test"
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: "\"raft\"", password: password)
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        for node in 0..<3 { try cluster.start(node) }
        #expect(eventually { cluster.agreedLeader() != nil })
        let ports = cluster.clientAddresses.map { String($0.port) }
        let refused = try Self.run(cli, ["-p", ports[0], "SET", "k", "v"])
        #expect(refused.output.contains("NOAUTH Authentication required."), "\(refused.output)")
        let wrong = try Self.run(cli, ["-p", ports[0], "-a", "wrong", "--no-auth-warning", "PING"])
        #expect(wrong.output.contains("WRONGPASS"), "\(wrong.output)")
        for node in 0..<3 {
            let set = try Self.run(cli, ["-p", ports[node], "-a", password, "--no-auth-warning", "SET", "key\(node)", "value \(node)"])
            #expect(set.output == "OK\n", "SET through n\(node + 1): \(set.output)")
        }
        for node in 0..<3 {
            let get = try Self.run(cli, ["-p", ports[(node + 1) % 3], "-a", password, "--no-auth-warning", "GET", "key\(node)"])
            #expect(get.output == "value \(node)\n", "GET through n\((node + 1) % 3 + 1): \(get.output)")
        }
        let cas = try Self.run(cli, ["-p", ports[1], "-a", password, "--no-auth-warning", "SET", "key0", "new", "IFEQ", "value 0"])
        #expect(cas.output == "OK\n", "compare-and-set as Redis 8.4 writes it: \(cas.output)")
        let info = try Self.run(cli, ["-p", ports[2], "-a", password, "--no-auth-warning", "INFO", "consensus"])
        #expect(info.output.contains("protocol:raft") && info.output.contains("commit_index:"), "\(info.output)")
        passed = true
    }

    @Test func redisBenchmarkRunsPipelinedAgainstAFollower() throws {
        guard let benchmark = Self.tool("redis-benchmark"), let conlab = RealClusterTests.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: "\"raft\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        let leader = try #require(try cluster.startAllAndAwaitLeader(), "the nodes agree on a leader")
        let follower = (leader + 1) % 3
        let run = try Self.run(benchmark, ["-p", String(cluster.clientAddresses[follower].port), "-t", "set,get", "-n", "2000",
                                           "-c", "4", "-P", "8", "-q"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).filter { $0.contains("requests per second") }
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("SET") || $0.hasPrefix("GET") }, "\(run.output)")
        #expect(cluster.get("key:__rand_int__", via: leader)?.text?.count == 3, "redis-benchmark's SET value (3 bytes) reached the leader")
        passed = true
    }
}
