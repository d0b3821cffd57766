import ConsensusCore
import Glibc
import Runtime
import Server
import Sharding

/// One client of a sharded store: a connection to one member of each server group (member `client
/// mod size`), and the configuration it routes by, read from the metaserver at the start. A key's
/// operation goes to the group that configuration gives the key's bucket; answered `WRONGGROUP`
/// (the table moved on), the client reads the versions after its own from the metaserver and sends
/// it once more, as a Redis Cluster client follows MOVED. (Such second sends are not counted as
/// `retries`, which count the round trips a guarded write repeats.)
final class ShardedTargetConnection: KeyValueConnection {
    private let driver: ShardDriver
    private var configuration: ShardConfiguration
    private var groups: [GroupID: RESPTargetConnection] = [:]
    let retries = 0

    init(files: [String], client index: Int, timeout: TimeSpan) throws {
        let configurations = try files.map { try ClusterFile.load(path: $0) }
        driver = try ShardDriver(metaserver: configurations[0], groups: Array(configurations.dropFirst()), patience: timeout.seconds)
        configuration = try driver.latest()
        for group in configurations.dropFirst() {
            groups[group.shardGroup!.group] = try RESPTargetConnection(address: group.members[index % group.members.count].client, timeout: timeout)
        }
    }

    func perform(_ operation: Operation) -> OperationOutcome {
        var outcome = send(operation)
        if case .failed(kind: "WRONGGROUP", _) = outcome, let latest = try? driver.latest(after: configuration) {
            configuration = latest
            outcome = send(operation)
        }
        return outcome
    }

    private func send(_ operation: Operation) -> OperationOutcome {
        guard let owner = configuration.owner(of: Bucket.of(key: operation.key, count: driver.buckets)), let group = groups[owner] else {
            return .failed(kind: "WRONGGROUP", message: "configuration v\(configuration.number) gives the bucket of \(operation.key) to no group this client reaches")
        }
        return group.perform(operation)
    }
}
