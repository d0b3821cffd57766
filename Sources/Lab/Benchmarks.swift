import ConsensusCore
import Dispatch
import Foundation
import Raft
import Simulator
import Unreplicated

/// Benchmarks behind `conlab bench`. Speed is measured here, in a release build, never in tests.
package enum Benchmarks {
    /// Simulated events per wall-clock second: 5 nodes, 50 closed-loop clients, 60 s of virtual
    /// time, the unreplicated backend (the cheapest protocol, so the figure is the simulator's own).
    package static func simulator(runs: Int = 5) -> String {
        var config = SimulationConfig(nodes: 5, seed: 1, duration: .seconds(60), quiescence: .seconds(1))
        config.workload.clientsPerNode = 10
        config.workload.mode = .closed(think: .fixed(.milliseconds(1)))
        var rates: [Double] = []
        var events = 0, operations = 0
        for _ in 0..<runs {
            let start = DispatchTime.now()
            let result = Simulation<Unreplicated>(config: config).run()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            events = result.counters.events
            operations = result.history.count
            rates.append(Double(events) / seconds)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        return "simulator: 5 nodes, 50 clients, 60 s virtual: \(events) events, \(operations) operations per run; "
            + "median of \(runs) runs: \(Int(median)) events/s (runs: \(rates.map { String(Int($0)) }.joined(separator: ", ")))"
    }

    /// Raft throughput: `clients` closed-loop clients (1 ms think time) spread evenly over the
    /// nodes, no faults, 60 s of virtual time, default options. Reports committed client
    /// operations (reads and writes answered `ok`) and simulated events per wall-clock second,
    /// median of `runs`, for each cluster size — and per second of the thread's CPU time, which
    /// other processes on a shared machine do not disturb.
    ///
    /// Two tables: the default mix (half of it readIndex reads, which commit no log entry) and a
    /// writes-only mix, where every operation counted is a committed log entry.
    /// `writesOnly` runs the second table alone (for profiling the committed-write path).
    package static func raft(nodes sizes: [Int] = [3, 5, 7, 9], clients: Int = 50, runs: Int = 3, writesOnly: Bool = false) -> String {
        let mixes: [(name: String, mix: WorkloadConfig.Mix)] = [
            ("default mix (get 50, put 30, append 10, cas 10)", WorkloadConfig.Mix()),
            ("writes only (put 60, append 20, cas 20)", WorkloadConfig.Mix(get: 0, put: 60, append: 20, cas: 20)),
        ]
        return mixes.suffix(writesOnly ? 1 : 2).map { raft(nodes: sizes, clients: clients, runs: runs, mix: $0.mix, name: $0.name) }.joined(separator: "\n\n")
    }

    static func raft(nodes sizes: [Int], clients: Int, runs: Int, mix: WorkloadConfig.Mix, name: String) -> String {
        var lines = ["raft, \(name): \(clients) closed-loop clients (1 ms think), no faults, 60 s virtual, median of \(runs) runs",
                     "| nodes | clients | ok ops/run | writes/run | ok ops per wall s | events per wall s | ok ops per CPU s | virtual ops/s | msgs/op |",
                     "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for size in sizes {
            var config = SimulationConfig(nodes: size, seed: 1, duration: .seconds(60), quiescence: .seconds(1))
            config.workload.clientsPerNode = (clients + size - 1) / size
            config.workload.mode = .closed(think: .fixed(.milliseconds(1)))
            config.workload.mix = mix
            var samples: [(ops: Double, events: Double, cpu: Double)] = []
            var ok = 0, writes = 0, messages = 0
            for _ in 0..<runs {
                let start = DispatchTime.now(), cpuStart = threadCPUSeconds()
                let result = Simulation<Raft>(config: config).run()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
                let cpu = threadCPUSeconds() - cpuStart
                let served = result.history.filter { if case .ok = $0.outcome { true } else { false } }
                ok = served.count
                writes = served.count { !$0.command.isRead }
                messages = result.counters.messagesSent
                samples.append((Double(ok) / seconds, Double(result.counters.events) / seconds, Double(ok) / cpu))
            }
            let median = { (values: [Double]) in Int(values.sorted()[runs / 2]) }
            lines.append("| \(size) | \(config.workload.clientsPerNode * size) | \(ok) | \(writes) | \(median(samples.map(\.ops))) | "
                         + "\(median(samples.map(\.events))) | \(median(samples.map(\.cpu))) | \(ok / 60) | "
                         + Number.fixed(Double(messages) / Double(max(ok, 1)), 2) + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// CPU time the calling thread has used.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
