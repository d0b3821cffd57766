import ConsensusCore
import Lab
import Raft
import Sharding
import Simulator

extension ShardedDeployment {
    /// The tests' deployment: groups of three simulated Raft nodes and a metaserver of three, no
    /// faults, a run long enough for any test, every group electing its leader first.
    convenience init(groups ids: [Int], buckets: Int, seed: UInt64, snapshotThreshold: Int? = nil, network: LinkProfile = LinkProfile()) {
        var options = RaftOptions()
        if let snapshotThreshold { options.snapshotThreshold = snapshotThreshold }
        self.init(groups: ids.map(GroupID.init), buckets: buckets, options: options) { scope in
            let offset = if case .group(let id) = scope { id.rawValue } else { 999 }
            var config = SimulationConfig(nodes: 3, seed: seed &+ UInt64(offset), duration: .seconds(100_000), quiescence: .zero, healAtEnd: false,
                                          network: network)
            config.workload.clientsPerNode = 0
            config.firstClientID = offset * 1_000_000
            return config
        }
        run(for: .seconds(2))
    }
}

extension ShardClients {
    /// `count` clients on keys k0…k`keys − 1`, puts, appends and gets in equal shares, no think time.
    init(count: Int, keys: Int, seed: UInt64, known: ShardConfiguration) {
        self.init(count: count, workload: WorkloadConfig(mode: .closed(think: .fixed(.zero)), keys: keys, mix: .init(get: 1, put: 1, append: 1, cas: 0, delete: 0)),
                  seed: seed, known: known)
    }
}
