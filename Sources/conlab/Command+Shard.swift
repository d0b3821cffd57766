import ConsensusCore
import Foundation
import Lab
import Server
import Sharding

extension Command {
    static let shardUsage = """
    conlab shard --meta META.json --group GROUP.json... COMMAND

    Operates a sharded store of real clusters (README § Sharding): a metaserver (a plain Raft
    cluster, META.json) and server groups (Raft clusters whose files carry "shardGroup"), all
    running `conlab serve`. Each change is made in the metaserver's chain of configurations, then
    every group is walked to it and the buckets it reassigns move with their data.

    COMMANDS
      join gK...      add groups (each one's cluster file among --group); buckets rebalance onto them
      leave gK...     remove groups; their buckets move to the others
      move B gK       move bucket B to group gK (no rebalancing)
      settle          bring every group to the latest configuration (after an interrupted change)
      show            the latest configuration: each group's buckets

    Prints the version made and each bucket moved. A change that would do nothing meant (a join of
    a group already in, or of one without a cluster file; a leave of a group not in, or of all) is
    refused. Exit status: 0 done, 1 a cluster did not answer in time (run `settle` again: every
    step is idempotent), 2 bad input.
    """

    static func shard(_ arguments: [String]) -> Int32 {
        if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") { print(shardUsage); return arguments.isEmpty ? 2 : 0 }
        var parser = ArgumentParser(arguments)
        return exitStatus {
            guard let metaFile = try parser.value("--meta") else { throw UsageError("shard needs --meta META.json\n\n\(shardUsage)") }
            let groupFiles = try parser.values("--group")
            guard let command = try parser.positional() else { throw UsageError("shard needs a command: join, leave, move, settle or show") }
            var operands: [String] = []
            while let operand = try parser.positional() { operands.append(operand) }
            try parser.finish()
            let driver: ShardDriver
            do {
                driver = try ShardDriver(metaserver: try ClusterFile.load(path: metaFile), groups: try groupFiles.map { try ClusterFile.load(path: $0) })
            } catch let failure as ShardDriver.Failure {
                throw UsageError(failure.description)
            }
            let change = try shardChange(command, operands, buckets: driver.buckets)
            if let change {
                let latest = try driver.latest()
                do throws(ShardDriver.Failure) { try driver.check(change, against: latest) } catch { throw UsageError(error.description) }
                let version = try driver.change(change)
                print("v\(version.number): \(command) \(operands.joined(separator: " "))")
            }
            if command == "show" {
                guard let latest = try driver.chain().last else { print("no configuration yet"); return 0 }
                print("v\(latest.number)")
                for (group, buckets) in latest.bucketsByGroup.sorted(by: { $0.key < $1.key }) {
                    print("  \(group): \(buckets.map(\.description).joined(separator: " "))")
                }
                return 0
            }
            for move in try driver.settle() { print("  moved \(move)") }
            print("every group at the latest configuration")
            return 0
        }
    }

    /// The change a command asks for; nil for `settle` and `show`.
    private static func shardChange(_ command: String, _ operands: [String], buckets: Int) throws -> ConfigurationChange? {
        func group(_ text: String) throws -> GroupID {
            guard let id = GroupID(name: text) else { throw UsageError("'\(text)' is not a group (g1, g2, …)") }
            return id
        }
        switch command {
        case "join", "leave":
            guard !operands.isEmpty else { throw UsageError("\(command) needs at least one group (g1, g2, …)") }
            let groups = try operands.map(group)
            guard Set(groups).count == groups.count else { throw UsageError("\(command) names a group twice") }
            return command == "join" ? .join(Dictionary(uniqueKeysWithValues: groups.map { ($0, [$0.description]) })) : .leave(groups)
        case "move":
            guard operands.count == 2, let bucket = Int(operands[0]), (0..<buckets).contains(bucket) else {
                throw UsageError("move takes a bucket (0…\(buckets - 1)) and a group: move 3 g2")
            }
            return .move(Bucket(bucket), to: try group(operands[1]))
        case "settle", "show":
            guard operands.isEmpty else { throw UsageError("\(command) takes no operands") }
            return nil
        default:
            throw UsageError("unknown shard command '\(command)': join, leave, move, settle or show")
        }
    }
}
