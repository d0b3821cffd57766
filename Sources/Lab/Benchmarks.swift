import ConsensusCore
import Dispatch
import Simulator
import Unreplicated

/// Benchmarks behind `conlab bench`. Speed is measured here, in a release build, never in tests.
public enum Benchmarks {
    /// Simulated events per wall-clock second: 5 nodes, 50 closed-loop clients, 60 s of virtual
    /// time, the unreplicated backend (the cheapest protocol, so the figure is the simulator's own).
    public static func simulator(runs: Int = 5) -> String {
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
}
