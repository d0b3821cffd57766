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
        let promises = override ?? self.promises(of: spec.backend, under: scenario.simulationConfig(seed: hunt.seed).faults)
        let broken = promises.broken(by: output)
        return HuntTrial(hunt: hunt, judged: promises, broken: broken.filter { !$0.undecided }, undecided: broken.contains(where: \.undecided))
    }

    /// What `backend` promises in a run with these fault steps (timed and triggered alike).
    static func promises(of backend: BackendSpec, under faults: [FaultStep]) -> Promises {
        Promises.made(by: backend, clockSpread: clockSpread(faults), linksFail: linksFail(faults))
    }

    /// Whether a step can keep a live node's messages from another for longer than a timeout: a
    /// partition, a one-way cut, a window dropping message types, a paused or slowed node, or a
    /// change of the network (a burst of loss, delay or reordering). Crashes and restarts are not
    /// such steps (a crashed node is not live), nor are clock rates (their spread is a fact of its
    /// own) or the network's steady loss, which the protocols' re-sends cover.
    static func linksFail(_ faults: [FaultStep]) -> Bool {
        faults.contains { step in
            switch step.action {
            case .partition, .partitionShape, .oneWay, .drop, .pause, .network: true
            case .slow(_, let factor): factor != 1
            case .heal, .crash, .restart, .resume, .restoreNetwork, .clockRate, .inject, .disk: false
            }
        }
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
