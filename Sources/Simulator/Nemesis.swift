import ConsensusCore
import Storage

/// A random fault schedule drawn from the run seed alone (Jepsen's nemesis), so every backend meets
/// the same faults at the same times. Faults come one at a time: a fault, then its repair, then a
/// pause, then the next.
public struct Nemesis: Hashable, Sendable {
    public enum Fault: String, CaseIterable, Hashable, Sendable {
        /// A random partition: majority–minority, halves, an isolated node, a bridge or a ring.
        case partition
        /// One-way cuts between two random groups.
        case oneWay = "one-way"
        /// A random minority of nodes crashes (losing unsynced data) and restarts.
        case crash
        /// A majority crashes together and restarts: only synced data survives.
        case crashMajority = "crash-majority"
        /// A node freezes and resumes.
        case pause
        /// A burst of loss, duplication and reordering on every link.
        case flaky
        /// A node slows down by 10–100×.
        case slow
        /// A node's clock runs at a rate between 0.5 and 2.
        case clock
        /// A node's disk flips a bit or loses or misdirects its next sync; at the repair the node
        /// crashes and restarts, so its recovery meets the damage (file engine only).
        case disk
    }

    public var faults: [Fault]
    /// Time between the end of one fault and the start of the next.
    public var interval: ClosedRange<TimeSpan>
    /// How long a fault lasts before it is repaired.
    public var length: ClosedRange<TimeSpan>

    public init(faults: [Fault] = [.partition, .crash, .pause, .flaky],
                interval: ClosedRange<TimeSpan> = .milliseconds(500)...(.seconds(2)),
                length: ClosedRange<TimeSpan> = .milliseconds(500)...(.seconds(3))) {
        self.faults = faults
        self.interval = interval
        self.length = length
    }

    /// The schedule for a run of `duration` on `nodes` nodes; repairs everything by the end.
    public func schedule(seed: UInt64, nodes: Int, duration: TimeSpan) -> [FaultStep] {
        var random = DeterministicRandom(seed: seed, label: "nemesis")
        var steps: [FaultStep] = []
        var time = Instant.zero + random.duration(in: interval)
        let end = Instant.zero + duration
        while time < end, !faults.isEmpty {
            let fault = faults[random.index(below: faults.count)]
            let repair = min(time + random.duration(in: length), end - .microseconds(1))
            guard repair > time else { break }
            let (start, stop) = actions(fault, nodes: nodes, random: &random)
            steps += start.map { FaultStep(at: time, $0) }
            steps += stop.map { FaultStep(at: repair, $0) }
            time = repair + random.duration(in: interval)
        }
        return steps
    }

    private func actions(_ fault: Fault, nodes: Int, random: inout DeterministicRandom) -> (start: [FaultAction], stop: [FaultAction]) {
        let all = (1...nodes).map { NodeRef.id(NodeID($0)) }
        var order = Array(1...nodes)
        random.shuffle(&order)
        let shuffledIDs = order.map { NodeRef.id(NodeID($0)) }
        switch fault {
        case .partition:
            let shapes: [FaultAction] = [
                .partitionShape(.majorityMinority(leaderIn: nil)), .partitionShape(.majorityMinority(leaderIn: .minority)),
                .partitionShape(.halves), .partitionShape(.isolate(.random)), .partitionShape(.isolate(.leader)),
                .partitionShape(.bridge), .partitionShape(.majoritiesRing),
            ]
            return ([shapes[random.index(below: shapes.count)]], [.heal])
        case .oneWay:
            let split = random.uniform(1...max(1, nodes - 1))
            return ([.oneWay(from: Array(shuffledIDs[..<split]), to: Array(shuffledIDs[split...]))], [.heal])
        case .crash:
            let count = random.uniform(1...max(1, (nodes - 1) / 2))
            return (shuffledIDs[..<count].map { .crash($0) }, [.restart(.affected)])
        case .crashMajority:
            let count = random.uniform((nodes / 2 + 1)...nodes)
            return (shuffledIDs[..<count].map { .crash($0) }, [.restart(.affected)])
        case .pause:
            let node = random.chance(0.5) ? NodeRef.leader : all[random.index(below: nodes)]
            return ([.pause(node)], [.resume(.affected)])
        case .flaky:
            let change = LinkChange(loss: random.nextUnit() * 0.3, duplicate: random.nextUnit() * 0.1, reorder: random.nextUnit() * 0.3)
            return ([.network(change)], [.restoreNetwork])
        case .slow:
            let node = all[random.index(below: nodes)]
            return ([.slow(node, factor: Double(random.uniform(10...100)))], [.slow(node, factor: 1)])
        case .clock:
            let node = all[random.index(below: nodes)]
            return ([.clockRate(node, rate: 0.5 + random.nextUnit() * 1.5)], [.clockRate(node, rate: 1)])
        case .disk:
            let node = all[random.index(below: nodes)]
            let fault = DiskFault.allCases[random.index(below: DiskFault.allCases.count)]
            return ([.disk(node, fault)], [.crash(node), .restart(node)])
        }
    }
}
