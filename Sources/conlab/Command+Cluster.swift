import ConsensusCore
import Foundation
import Lab
import Server

extension Command {
    static let clusterUsage = """
    conlab cluster up --backend NAME [--nodes N] [--dir DIR] [--port-base P] [--option NAME=VALUE]... [--requirepass]
                      [--shard-group gK --buckets B]
    conlab cluster status [--dir DIR]
    conlab cluster down [--dir DIR] [--grace SECONDS]

    A local cluster of `conlab serve` processes in DIR (default conlab-cluster):
      up      writes DIR/cluster.json and DIR/secret, starts N nodes (default 3) on 127.0.0.1,
              node i with clients on port P+i and peers on P+100+i (default P 7000), data in
              DIR/nI and its log in DIR/nI.log; waits until each answers PING, prints one line per
              node and records the pids in DIR/cluster.json. --option sets a backend option as a
              scenario does: read=lease, prevote=false, electionTimeout=["300ms","600ms"] (a value
              that is not JSON is a string). --requirepass: clients must AUTH with the password
              up writes to DIR/requirepass (redis-cli -a "$(cat DIR/requirepass)"). --shard-group gK
              --buckets B (raft only): the nodes serve as server group gK of a sharded store of B
              buckets (`conlab shard` joins it to one).
      status  role, term, leader and commit index of each node (INFO consensus)
      down    SIGTERM to exactly the recorded processes, SIGKILL after --grace seconds (default 10)
    """

    static func cluster(_ arguments: [String]) -> Int32 {
        if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") { print(clusterUsage); return arguments.isEmpty ? 2 : 0 }
        var parser = ArgumentParser(Array(arguments.dropFirst()))
        return exitStatus {
            let directory = try parser.value("--dir") ?? "conlab-cluster"
            switch arguments[0] {
            case "up": return try clusterUp(&parser, directory: directory)
            case "status":
                try parser.finish()
                return try clusterStatus(directory: directory)
            case "down":
                let grace = try parser.value("--grace").map { text in
                    guard let seconds = Double(text), seconds >= 0 else { throw UsageError("--grace takes a number of seconds") }
                    return seconds
                } ?? 10
                try parser.finish()
                for (member, outcome) in try ClusterLauncher.down(directory: directory, grace: grace) {
                    print("\(member.id) \(member.pid.map { "pid \($0)" } ?? "-") \(outcome)")
                }
                return 0
            default:
                throw UsageError("unknown cluster command '\(arguments[0])'\n\n\(clusterUsage)")
            }
        }
    }

    private static func clusterUp(_ parser: inout ArgumentParser, directory: String) throws -> Int32 {
        guard let backend = try parser.value("--backend") else { throw UsageError("cluster up needs --backend NAME (\(Backends.all.map(\.name).joined(separator: ", ")))") }
        let nodes = try parser.value("--nodes").map { text in
            guard let count = Int(text) else { throw UsageError("--nodes takes a number") }
            return count
        } ?? 3
        let portBase = try parser.value("--port-base").map { text in
            guard let port = Int(text) else { throw UsageError("--port-base takes a port number") }
            return port
        } ?? 7000
        let options = try parser.values("--option").map(option)
        let requirepass = parser.flag("--requirepass")
        let group = try parser.value("--shard-group"), buckets = try parser.value("--buckets")
        guard (group == nil) == (buckets == nil) else { throw UsageError("--shard-group gK and --buckets B go together") }
        let shardGroup = try group.map { group -> JSONValue in
            guard let count = Int(buckets!) else { throw UsageError("--buckets takes a number") }
            return .object([("group", .string(group)), ("buckets", .number(Double(count)))])
        }
        try parser.finish()
        let plan = ClusterLauncher.Plan(backend: .object([("protocol", .string(backend)), ("options", .object(options))]),
                                        nodes: nodes, directory: directory, portBase: portBase, requirepass: requirepass, shardGroup: shardGroup)
        for member in try ClusterLauncher.up(plan).members {
            print("\(member.id) pid \(member.pid!) client \(member.client) peer \(member.peer) data \(member.data!)")
        }
        return 0
    }

    /// `NAME=VALUE`, the value as JSON when it parses (`false`, `4`, `["1s","2s"]`), else a string.
    private static func option(_ text: String) throws -> (key: String, value: JSONValue) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw UsageError("--option takes NAME=VALUE, e.g. read=lease; found '\(text)'")
        }
        let value = String(text[text.index(after: equals)...])
        return (String(text[..<equals]), (try? JSONValue(parsing: value)) ?? .string(value))
    }

    private static func clusterStatus(directory: String) throws -> Int32 {
        let reports = try ClusterLauncher.status(directory: directory)
        print("node  pid      process  role       term  leader  commit  client")
        for report in reports {
            let pid = report.member.pid.map(String.init) ?? "-"
            let process = report.running ? "running" : "stopped"
            switch report.info {
            case .success(let info):
                let role = info["role"].flatMap { $0.isEmpty ? nil : $0 } ?? "-"
                let leader = info["leader"].flatMap { $0.isEmpty ? nil : $0 } ?? "-"
                print(row([report.member.id.description, pid, process, role, info["term"] ?? "-", leader, info["commit_index"] ?? "-",
                           report.member.client.description]))
            case .failure(let failure):
                print(row([report.member.id.description, pid, process, "-", "-", "-", "-", report.member.client.description]) + "  (\(failure))")
            }
        }
        return 0
    }

    private static func row(_ cells: [String]) -> String {
        let widths = [6, 9, 9, 11, 6, 8, 8, 0]
        return zip(cells, widths).map { cell, width in width == 0 ? cell : cell.padding(toLength: max(width, cell.count + 1), withPad: " ", startingAt: 0) }.joined()
    }
}
