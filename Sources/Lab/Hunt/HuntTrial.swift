import ConsensusCore
import Simulator

/// One drawn scenario run in the simulator and judged against what its backend variant
/// promises (or against the promises a hunt was told to judge).
public struct HuntTrial: Sendable {
    public var hunt: HuntCase
    /// The promises the run was judged against.
    public var judged: Promises
    /// What it broke, in judging order; empty for a run that kept every promise.
    public var broken: [BrokenPromise]
    /// Whether the checker could not decide the history's linearizability within its budget
    /// (a hot key under many clients): not a violation, but not a pass either, so counted apart.
    public var undecided: Bool

    /// Decodes `hunt` as `conlab run` would read its file, runs it and judges it. A scenario the
    /// decoder refuses is a bug of the drawing or the shrinking, said as such.
    public static func run(_ hunt: HuntCase, judging override: Promises? = nil) throws(ScenarioError) -> HuntTrial {
        let scenario = try hunt.scenario()
        let spec = Runner.plan(experiment: hunt.name, scenarios: [scenario])[0]
        let output = Runner.execute(spec)
        let promises = override ?? Promises.made(by: spec.backend, clockSpread: clockSpread(scenario.simulationConfig(seed: hunt.seed).faults))
        let broken = promises.broken(by: output)
        return HuntTrial(hunt: hunt, judged: promises, broken: broken.filter { !$0.undecided }, undecided: broken.contains(where: \.undecided))
    }

    /// The slowest clock rate any step of `faults` sets (or true time) over the fastest: how far
    /// two clocks of the run may drift apart, whichever nodes and moments the steps hit.
    static func clockSpread(_ faults: [FaultStep]) -> Double {
        let rates: [Double] = faults.compactMap { step -> Double? in if case .clockRate(_, let rate) = step.action { rate } else { nil } } + [1]
        return rates.min()! / rates.max()!
    }

    /// Whether this run broke `promise` (a single promise): the same kind of violation.
    func breaks(_ promise: Promises) -> Bool { broken.contains { $0.promise == promise } }
}

extension HuntCase {
    /// The scenario `conlab run` reads from this case's file.
    public func scenario() throws(ScenarioError) -> Scenario {
        try ScenarioFile.scenarios(in: document, file: name + ".json")[0]
    }

    /// The same run with the nemesis's schedule written out as explicit fault steps (what the
    /// shrinker removes one at a time), or nil if a step has no file form.
    func explicit() throws(ScenarioError) -> HuntCase? {
        let scenario = try self.scenario()
        guard let nemesis = scenario.nemesis else { return self }
        var steps: [Step] = []
        for step in nemesis.schedule(seed: seed, nodes: nodes, duration: duration) {
            guard let encoded = FaultEncoder.step(step) else { return nil }
            steps.append(encoded)
        }
        var explicit = self
        explicit.faults += steps
        explicit.nemesis = nil
        return explicit
    }
}
