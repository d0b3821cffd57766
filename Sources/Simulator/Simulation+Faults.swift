import ConsensusCore
import Storage

/// Fault injection: timed and triggered steps, node life cycle, partitions and link changes.
extension Simulation {
    struct ArmedTrigger {
        var step: Int
        var trigger: Trigger
        var seen = 0
    }

    func scheduleFaults() {
        for (index, step) in config.faults.enumerated() {
            switch step.when {
            case .at(let time): queue.schedule(.fault(step: index), at: time)
            case .on(let trigger): triggers.append(ArmedTrigger(step: index, trigger: trigger))
            }
        }
    }

    /// Applies a fault now, outside the scenario's timeline (for tests and scripted runs).
    public func apply(_ action: FaultAction) {
        _ = perform(action)
    }

    func fire(step: Int) {
        let action = config.faults[step].action
        guard !perform(action) else { return }
        // A role target that does not exist yet (no leader during an election): try again shortly,
        // so "crash the leader at 10 s" means the first leader at or after 10 s.
        if deferredSteps.insert(step).inserted { record(node: nil, .faultDeferred(action)) }
        if now < drainEnd { queue.schedule(.fault(step: step), at: now + .milliseconds(10)) }
    }

    // MARK: Triggers

    func checkMessageTriggers(received: Bool, kind: String, node: Int, peer: Int) {
        for index in triggers.indices.reversed() where index < triggers.count {
            let armed = triggers[index]
            switch armed.trigger.event {
            case .sent(let wanted) where !received && wanted == kind: break
            case .received(let wanted) where received && wanted == kind: break
            default: continue
            }
            count(index, node: node, sending: !received)
        }
    }

    func checkTriggers(_ event: Trigger.Event, node: Int) {
        for index in triggers.indices.reversed() where index < triggers.count {
            switch (triggers[index].trigger.event, event) {
            case (.role(let wanted), .role(let role)) where wanted == role: break
            case (.committed(let wanted), .committed(let index)) where index >= wanted: break
            default: continue
            }
            count(index, node: node)
        }
    }

    /// One matching event for trigger `index`; fires the step on the wanted occurrence.
    /// - Parameter sending: the event is `node` sending a message. A fault fired at that moment
    ///   finds what the node wrote before durable — "logged, then crashed before sending", the
    ///   seeds' cases; for a message that leaves at once, the interleaving where the disk was the
    ///   faster of the two.
    private func count(_ index: Int, node: Int, sending: Bool = false) {
        let trigger = triggers[index].trigger
        guard now >= trigger.notBefore else { return }
        if let wanted = trigger.node {
            guard let resolved = resolve(wanted), resolved.contains(node) else { return }
        }
        triggers[index].seen += 1
        guard triggers[index].seen >= trigger.occurrence else { return }
        let step = triggers.remove(at: index).step
        record(node: node, .triggerFired(step: step))
        if trigger.delay > .zero {
            queue.schedule(.fault(step: step), at: now + trigger.delay)
        } else {
            if sending, holding == node { releaseEverything(node) }
            fire(step: step)
        }
    }

    // MARK: Actions

    /// Carries out `action`; false when a role target could not be resolved.
    func perform(_ action: FaultAction) -> Bool {
        var targets: [Int] = []
        switch action {
        case .partition(let groups):
            var resolved: [[Int]] = []
            for group in groups {
                guard let nodes = resolveAll(group) else { return false }
                resolved.append(nodes)
            }
            network.partition(resolved)
        case .partitionShape(let shape):
            guard applyShape(shape) else { return false }
        case .oneWay(let from, let to):
            guard let senders = resolveAll(from), let receivers = resolveAll(to) else { return false }
            for sender in senders { for receiver in receivers { network.setReachable(sender, receiver, false) } }
        case .drop(let kinds, let from, let to):
            guard let senders = resolveAll(from), let receivers = resolveAll(to) else { return false }
            for sender in senders { for receiver in receivers where sender != receiver { droppedKinds[sender * config.nodes + receiver, default: []].formUnion(kinds) } }
        case .heal:
            network.heal()
            droppedKinds.removeAll()
        case .crash(let ref):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved
        case .restart(let ref):
            targets = ref == .affected ? nodes.indices.filter { !nodes[$0].isUp } : resolve(ref) ?? []
        case .pause(let ref):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved.filter { nodes[$0].isUp }
            for node in targets { nodes[node].paused = true; nodes[node].scheduledTick = nil }
        case .resume(let ref):
            targets = ref == .affected ? nodes.indices.filter { nodes[$0].paused } : resolve(ref) ?? []
            for node in targets { resume(node) }
        case .network(let change):
            changeLinks(change)
        case .restoreNetwork:
            network.restoreProfiles()
        case .slow(let ref, let factor):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved
            for node in targets { nodes[node].slowFactor = factor }
        case .clockRate(let ref, let rate):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved
            for node in targets {
                nodes[node].clock.setRate(rate, at: now)
                nodes[node].scheduledTick = nil
                rescheduleTick(node)
            }
        case .inject(let ref, let fault):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved
            for node in targets { queue.schedule(.inject(node: node, fault), at: now) }
        case .disk(let ref, _):
            guard let resolved = resolve(ref) else { return false }
            targets = resolved
        }
        let cutsLinks: Bool
        switch action {
        case .partition, .partitionShape, .oneWay: cutsLinks = true
        default: cutsLinks = false
        }
        record(node: nil, .fault(action, targets: targets.map { cluster[$0] }, reachability: cutsLinks ? network.reachability : nil))
        // Crashes and restarts are recorded after the fault line that caused them.
        if case .crash = action { for node in targets { crash(node) } }
        if case .restart = action { for node in targets where !nodes[node].isUp { restart(node) } }
        if case .disk(_, let fault) = action { for node in targets { injectDiskFault(fault, into: node) } }
        noteFaultLevel(action.description)
        return true
    }

    func crash(_ node: Int) {
        guard nodes[node].isUp else { return }
        let lost = crashHost(node)
        nodes[node].inbox = FIFOQueue()
        nodes[node].paused = false
        nodes[node].scheduledTick = nil
        nodes[node].flushScheduled = false
        nodes[node].role = nil
        record(node: node, .crash(lostOperations: lost))
        updateLeader()
    }

    /// A `disk` fault reaches the node's simulated disk: a bit flip lands in a synced byte now, a
    /// lost or misdirected write waits for the next sync that writes bytes. Either stays latent
    /// until a crash makes the node read its medium again, as on a real machine. (Scenarios allow
    /// disk faults only with the file engine.)
    func injectDiskFault(_ fault: DiskFault, into node: Int) {
        guard let disk = nodes[node].host.storage.disk else {
            preconditionFailure("a disk fault needs storage.engine file (\(cluster[node]) runs on memory)")
        }
        disk.fileSystem.inject(fault)
    }

    /// Starts a node from what its storage synced (a first start finds it empty).
    func restart(_ node: Int) {
        guard !nodes[node].isUp else { return }
        let recovered: RecoveredState<Backend.Entry, Backend.HardState>
        let seed = DeterministicRandom.derive(config.seed, "node-\(node + 1)-\(nodes[node].host.incarnation)")
        do { recovered = try nodes[node].host.start(seed: seed) } catch {
            record(node: node, .restartFailed(reason: "\(error)"))
            return
        }
        nodes[node].busyUntil = now
        if let disk = nodes[node].host.storage.disk {
            if let repair = disk.directory.lastRecovery, let file = repair.tornFile {
                record(node: node, .tornTailRepaired(file: file, droppedBytes: repair.droppedBytes))
            }
            if disk.unnoticedDamage.total > 0 { record(node: node, .diskDamageUnnoticed(disk.unnoticedDamage)) }
        }
        let entries = recovered.entries.count, snapshotIndex = recovered.snapshot?.lastIndex
        record(node: node, nodes[node].started ? .restart(recoveredEntries: entries, snapshotIndex: snapshotIndex)
                                               : .start(recoveredEntries: entries, snapshotIndex: snapshotIndex))
        nodes[node].started = true
        rescheduleTick(node)
    }

    func resume(_ node: Int) {
        guard nodes[node].paused else { return }
        nodes[node].paused = false
        scheduleReady(node)
        rescheduleTick(node)
    }

    func changeLinks(_ change: LinkChange) {
        let touched: [Int]? = change.nodes.flatMap { resolveAll($0) }
        for from in 0..<config.nodes {
            for to in 0..<config.nodes where from != to {
                if let touched, !touched.contains(from), !touched.contains(to) { continue }
                network.setProfile(change.applied(to: network.profile(from, to)), links: [(from, to)])
            }
        }
    }

    /// Undoes every fault at the end of the run, so replicas can converge before they are compared.
    func healEverything() {
        let anythingActive = faultLevels.last!.active > 0 || nodes.contains { !$0.isUp }
        network.heal()
        droppedKinds.removeAll()
        network.restoreProfiles()
        for node in nodes.indices {
            nodes[node].slowFactor = 1
            if nodes[node].clock.rate != 1 { nodes[node].clock.setRate(1, at: now); nodes[node].scheduledTick = nil }
            if nodes[node].paused { resume(node) }
            if !nodes[node].isUp, nodes[node].started || config.startTimes[cluster[node]] != nil { restart(node) }
            rescheduleTick(node)
        }
        triggers.removeAll()
        if anythingActive { record(node: nil, .healedForQuiescence) }
        noteFaultLevel("healed for quiescence")
    }

    /// Tracks how many fault conditions are active, for the `faults_active` column.
    func noteFaultLevel(_ description: String) {
        var active = network.isFullyConnected && droppedKinds.isEmpty ? 0 : 1
        if network.hasChangedProfiles { active += 1 }
        for node in nodes.indices {
            if !nodes[node].isUp && nodes[node].started { active += 1 }
            if nodes[node].paused { active += 1 }
            if nodes[node].slowFactor != 1 { active += 1 }
            if nodes[node].clock.rate != 1 { active += 1 }
        }
        let majority = config.nodes / 2 + 1
        let minority = nodes.indices.filter { node in
            nodes[node].isUp && nodes.indices.filter { network.canReach(node, $0) && network.canReach($0, node) }.count < majority
        }.map { cluster[$0] }
        let last = faultLevels[faultLevels.count - 1]
        guard last.active != active || last.minoritySide != minority else { return }
        if last.start == now { faultLevels.removeLast() }
        faultLevels.append(FaultLevel(start: now, active: active, description: description, minoritySide: minority))
    }

    // MARK: Targets

    func resolveAll(_ refs: [NodeRef]) -> [Int]? {
        var result: [Int] = []
        for ref in refs {
            guard let nodes = resolve(ref) else { return nil }
            for node in nodes where !result.contains(node) { result.append(node) }
        }
        return result
    }

    /// The nodes a reference means now; nil when a role has no holder.
    func resolve(_ ref: NodeRef) -> [Int]? {
        switch ref {
        case .id(let node): return [node.index]
        case .leader:
            // A protocol that never reports roles (2PC, the unreplicated baseline) has no leader to
            // wait for: `leader` then means its lowest-numbered live node.
            guard reportsRoles else { return nodes.indices.first { nodes[$0].isUp }.map { [$0] } }
            return currentLeaderIndex.map { [$0] }
        case .follower:
            let leader = resolve(.leader)?.first
            return nodes.indices.first { nodes[$0].isUp && $0 != leader }.map { [$0] }
        case .coordinator:
            if let coordinator = lastCoordinator { return [coordinator] }
            return reportsRoles ? nil : resolve(.leader)
        case .random:
            let live = nodes.indices.filter { nodes[$0].isUp }
            return live.isEmpty ? nil : [live[faultRandom.index(below: live.count)]]
        case .affected:
            return nodes.indices.filter { !nodes[$0].isUp || nodes[$0].paused }
        }
    }

    func applyShape(_ shape: PartitionShape) -> Bool {
        let n = config.nodes
        switch shape {
        case .isolate(let ref):
            guard let target = resolve(ref)?.first else { return false }
            network.partition([[target], (0..<n).filter { $0 != target }])
        case .majorityMinority(let side):
            let minoritySize = (n - 1) / 2
            // Wait for the leader before drawing: a step that retries must not use up draws, or
            // every random step after it would differ between backends (FAULTS.md: identical faults).
            let leader = side == nil ? nil : resolve(.leader)?.first
            if side != nil, leader == nil { return false }
            var order = shuffled(Array(0..<n))
            if let side, let leader {
                order.removeAll { $0 == leader }
                if side == .minority { order.insert(leader, at: 0) } else { order.append(leader) }
            }
            network.partition([Array(order[..<minoritySize]), Array(order[minoritySize...])])
        case .halves:
            let order = shuffled(Array(0..<n))
            network.partition([Array(order[..<(n / 2)]), Array(order[(n / 2)...])])
        case .bridge:
            // The bridge is a follower: a leader that sees everyone would hide the effect the
            // shape exists to show (the half that cannot hear the leader keeps electing).
            var order = shuffled(Array(0..<n))
            if let leader = currentLeaderIndex, n > 2 { order.removeAll { $0 == leader }; order.append(leader) }
            let bridge = order[0], rest = Array(order.dropFirst())
            let left = Set(rest.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
            network.setReachability { from, to in
                from == bridge || to == bridge || left.contains(from) == left.contains(to)
            }
        case .majoritiesRing:
            let ring = shuffled(Array(0..<n))
            var position = Array(repeating: 0, count: n)
            for (i, node) in ring.enumerated() { position[node] = i }
            // Seeing every node within `reach` ring steps gives 2·reach + 1 ≥ ⌊n/2⌋ + 1 nodes: a majority.
            let reach = (n / 2 + 1) / 2
            network.setReachability { from, to in
                let distance = abs(position[from] - position[to])
                return min(distance, n - distance) <= reach
            }
        }
        return true
    }

    func shuffled(_ values: [Int]) -> [Int] {
        var result = values
        faultRandom.shuffle(&result)
        return result
    }
}
