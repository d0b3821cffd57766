import ConsensusCore
import Foundation
import Glibc
import RESP
import Runtime
import Sharding

/// The operator and the migration controller of a sharded store whose metaserver and server groups
/// are clusters of real `conlab serve` processes (`"shardGroup"` in each group's cluster file),
/// over RESP. The same pure state machines as in the simulator — `MetaClerk` makes a change in the
/// metaserver, `ShardController` walks every group through the chain and moves the buckets — and
/// this thin shell carries their commands to a member of the right cluster, turning each reply
/// back into an outcome. Every step is idempotent at its group, so a step whose answer is lost is
/// simply sent again, to the same member or the next.
public final class ShardDriver {
    /// A cluster as the driver reaches it: its members' client addresses and the password, if any.
    public struct Cluster: Sendable {
        public var addresses: [SocketAddress]
        public var password: [UInt8]?

        public init(_ configuration: ClusterConfiguration) {
            addresses = configuration.members.map(\.client)
            password = configuration.requirepass
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let metaserver: Cluster
    let groups: [GroupID: Cluster]
    public let buckets: Int
    /// How long the driver keeps trying one request, and all of `settle`, before it gives up.
    let patience: TimeInterval
    private var connections: [SocketAddress: RESPClient] = [:]
    /// The member of each cluster the last request went to (rotated past failures).
    private var turn: [String: Int] = [:]

    /// `metaserver`: a plain cluster; `groups`: clusters whose files name their shard group, all
    /// with one bucket count. Anything else is refused, naming the file.
    public init(metaserver: ClusterConfiguration, groups: [ClusterConfiguration], patience: TimeInterval = 60) throws(Failure) {
        if metaserver.shardGroup != nil { throw Failure(description: "\(metaserver.file): a metaserver is a plain cluster; drop its \"shardGroup\"") }
        var clusters: [GroupID: Cluster] = [:]
        var buckets: Int?
        for group in groups {
            guard let role = group.shardGroup else { throw Failure(description: "\(group.file): no \"shardGroup\": not a server group") }
            guard clusters[role.group] == nil else { throw Failure(description: "\(group.file): \(role.group) is named by two cluster files") }
            if let buckets, buckets != role.buckets {
                throw Failure(description: "\(group.file): \(role.buckets) buckets, where the other groups have \(buckets)")
            }
            buckets = role.buckets
            clusters[role.group] = Cluster(group)
        }
        guard let buckets else { throw Failure(description: "no server group given") }
        self.metaserver = Cluster(metaserver)
        self.groups = clusters
        self.buckets = buckets
        self.patience = patience
    }

    // MARK: The operator

    /// Makes `change` in the metaserver; returns the version it made.
    public func change(_ change: ConfigurationChange) throws(Failure) -> ShardConfiguration {
        var clerk = MetaClerk(.change(change), tag: "conlab-shard-\(getpid())-\(Date().timeIntervalSince1970)", buckets: buckets)
        switch try ask(&clerk) {
        case .version(let version): return version
        case .refused(let refusal): throw Failure(description: "the metaserver refused the change: \(refusal)")
        case .unreadable(let key, let value): throw Failure(description: "the metaserver's \(key) holds \(value.prefix(80)), not a configuration")
        }
    }

    /// The latest configuration after `known` (read forward from it: one request per newer version).
    public func latest(after known: ShardConfiguration) throws(Failure) -> ShardConfiguration {
        var clerk = MetaClerk(.query(nil), tag: "conlab-shard", buckets: buckets, known: known)
        guard case .version(let version) = try ask(&clerk) else { return known }
        return version
    }

    /// The chain from version 1 up, as the metaserver holds it.
    public func chain() throws(Failure) -> [ShardConfiguration] {
        var versions: [ShardConfiguration] = []
        while true {
            var clerk = MetaClerk(.query(versions.count + 1), tag: "conlab-shard", buckets: buckets)
            guard case .version(let version) = try ask(&clerk), version.number == versions.count + 1 else { return versions }
            versions.append(version)
        }
    }

    private func ask(_ clerk: inout MetaClerk) throws(Failure) -> MetaClerk.Result {
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            let sent = clerk.command
            if let result = clerk.receive(try perform(sent, on: metaserver, deadline: deadline)) { return result }
            if clerk.command == sent { usleep(20_000) }  // an answer that changed nothing: ask again, not at once
        }
        throw Failure(description: "the metaserver did not answer within \(Int(patience)) s")
    }

    // MARK: The controller

    /// Brings every group to the latest version and moves every bucket it reassigns; returns the
    /// buckets installed at their new owner, in order (`b3 → g2 (v2)`). The controller walks the
    /// chain from version 1, and a step already carried out is answered at once, so settling a
    /// settled store moves nothing. `answered` hears of each step as its group carries it out,
    /// with the chain walked (the lab's migration windows).
    @discardableResult
    public func settle(answered: (ShardController.Step, [ShardConfiguration]) -> Void = { _, _ in }) throws(Failure) -> [String] {
        let versions = try chain()
        guard !versions.isEmpty else { return [] }
        if let unknown = Set(versions.flatMap(\.groups.keys)).subtracting(groups.keys).min() {
            throw Failure(description: "the configuration names \(unknown), and no cluster file was given for it")
        }
        var controller = ShardController(versions: versions)
        var installed: [String] = []
        let deadline = Date().addingTimeInterval(patience)
        while let step = controller.request {
            guard Date() < deadline else { throw Failure(description: "\(step.group) did not carry out \(step.control.summary) within \(Int(patience)) s; `settle` goes on from there") }
            controller.receive(try perform(step.control.command, on: groups[step.group]!, deadline: deadline))
            if controller.request == step {
                usleep(20_000)  // "not yet" (a group still waits for a bucket): ask again, not at once
                continue
            }
            answered(step, versions)
            if case .install(let bucket, let number, _) = step.control { installed.append("\(bucket) → \(step.group) (v\(number))") }
        }
        return installed
    }

    /// The latest configuration (version 0, owning nothing, before the first change).
    public func latest() throws(Failure) -> ShardConfiguration { try chain().last ?? .initial(buckets: buckets) }

    /// Refuses a change to `latest` that the metaserver would refuse or that would do nothing a
    /// user meant (as a scenario's changes are checked): a join of a group already in or of one
    /// with no cluster file, a leave of a group not in or of every group, a move to a group not in.
    public func check(_ change: ConfigurationChange, against latest: ShardConfiguration) throws(Failure) {
        switch change {
        case .join(let joining):
            for group in joining.keys.sorted() where latest.groups[group] != nil {
                throw Failure(description: "\(group) is already in the configuration (v\(latest.number))")
            }
        case .leave(let leaving):
            if let absent = leaving.first(where: { latest.groups[$0] == nil }) { throw Failure(description: "\(absent) is not in the configuration (v\(latest.number))") }
            if Set(leaving).isSuperset(of: latest.groups.keys) { throw Failure(description: "no group would be left to serve the buckets") }
        case .move(let bucket, let group):
            if latest.groups[group] == nil { throw Failure(description: "\(group) is not in the configuration (v\(latest.number))") }
            if !(0..<buckets).contains(bucket.index) { throw Failure(description: "no bucket \(bucket.index): buckets are 0…\(buckets - 1)") }
        }
        // Settling walks every group of the chain: each needs its cluster file before the change is made.
        let named = Set(latest.groups.keys).union(change.joining)
        if let missing = named.subtracting(groups.keys).min() { throw Failure(description: "no cluster file was given for \(missing) (--group)") }
    }

    // MARK: Requests

    /// Sends `command` to a member of `cluster` until a reply says something about it: another
    /// member after a refusal that took no effect (no leader yet, another node leads, a member
    /// down), every 50 ms, until `deadline`.
    func perform(_ command: Command, on cluster: Cluster, deadline: Date) throws(Failure) -> Outcome {
        let key = cluster.addresses.map(\.description).joined(separator: ",")
        while Date() < deadline {
            let index = (turn[key] ?? 0) % cluster.addresses.count
            let address = cluster.addresses[index]
            do throws(RESPClient.Failure) {
                let client = try connection(to: address, password: cluster.password)
                let reply = try client.call(command.redisArguments)
                if let outcome = Self.outcome(reply, of: command) { return outcome }
            } catch {
                connections[address] = nil
            }
            turn[key] = index + 1
            usleep(50_000)
        }
        throw Failure(description: "no member of the cluster at \(cluster.addresses.map(\.description).joined(separator: ", ")) answered in time")
    }

    private func connection(to address: SocketAddress, password: [UInt8]?) throws(RESPClient.Failure) -> RESPClient {
        if let open = connections[address] { return open }
        let client = try RESPClient(connectingTo: address, timeout: .seconds(5), password: password)
        connections[address] = client
        return client
    }

    /// What a reply means for the clerks and the controller; nil for a refusal that took no effect
    /// and is worth sending elsewhere or later (`CLUSTERDOWN`, `TRYAGAIN`), or a reply of no known form.
    package static func outcome(_ reply: RESPClient.Reply, of command: Command) -> Outcome? {
        switch (reply, command) {
        case (.error(let text), _):
            if text.hasPrefix("CLUSTERDOWN") || text.hasPrefix("TRYAGAIN") { return nil }
            return text.hasPrefix("TIMEOUT") ? .indeterminate : .fail(.refused)
        case (.bulk(let bytes), .get), (.bulk(let bytes), .put):
            // A control command answers with a value (an export's handoff, "not yet") or null (released).
            return .ok(.value(bytes.map { String(decoding: $0, as: UTF8.self) }))
        case (.simple("OK"), _): return .ok(.done)
        case (.bulk(nil), .cas): return .ok(.casMismatch(current: nil))
        case (.integer, .append), (.integer, .delete): return .ok(.done)
        default: return nil
        }
    }
}
