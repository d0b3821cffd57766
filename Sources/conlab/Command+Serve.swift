import ConsensusCore
import Foundation
import Lab
import Server

extension Command {
    static let serveUsage = """
    conlab serve --cluster CLUSTER.json --node ID [--data DIR] [--disk file|memory] [--parent PID]

    Runs one member of the cluster CLUSTER.json describes, as a process: the backend it names,
    peers over authenticated TCP links, clients over the Redis protocol at the node's client
    address (redis-cli, redis-benchmark). Any node takes any request and forwards it to the leader.
    `INFO consensus` shows role, term, leader, commit index and the syncs of group commit.

    OPTIONS
      --cluster FILE   the cluster file (README § Real clusters)
      --node ID        which member this process is: n1, n2, …
      --data DIR       its data directory (default: the node's "data" in the cluster file)
      --disk memory    keep the log in memory, not on disk: nothing survives the process, and
                       a crash loses acknowledged writes. Only for measuring the node loop
                       without the disk (BENCHMARKS.md); default: file
      --parent PID     stop (as on SIGTERM) once process PID, which started this one, is gone:
                       nodes a runner started never outlive it, even when it is killed

    Logs go to standard error. SIGTERM or SIGINT stops the node cleanly (exit status 0). Exit
    status 1: the node cannot start (a corrupt log record: the message names the file and the
    offset; an address in use) or its log failed; 2: bad input.
    """

    static func serve(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(serveUsage); return 0 }
        var parser = ArgumentParser(arguments)
        return exitStatus {
            guard let file = try parser.value("--cluster") else { throw UsageError("serve needs --cluster FILE\n\n\(serveUsage)") }
            guard let node = try parser.value("--node") else { throw UsageError("serve needs --node ID (n1, n2, …)") }
            let data = try parser.value("--data")
            let disk = try parser.value("--disk") ?? "file"
            let parent = try parser.value("--parent").map { text throws(UsageError) -> pid_t in
                guard let pid = pid_t(text), pid > 1 else { throw UsageError("--parent takes the pid of the process that started this one, not '\(text)'") }
                return pid
            }
            guard ["file", "memory"].contains(disk) else { throw UsageError("--disk takes file or memory, not '\(disk)'") }
            try parser.finish()
            let configuration = try ClusterFile.load(path: file)
            guard let member = configuration.members.first(where: { $0.id.description == node }) else {
                throw UsageError("--node \(node): not a node of \(file) (its nodes: \(configuration.memberIDs.map(\.description).joined(separator: ", ")))")
            }
            guard let directory = data ?? member.data else {
                throw UsageError("--data DIR is needed: \(file) names no data directory for \(node)")
            }
            return NodeProcess.run(NodeProcess.Request(configuration: configuration, node: member.id, dataDirectory: directory,
                                                       memoryDisk: disk == "memory", parent: parent))
        }
    }
}
