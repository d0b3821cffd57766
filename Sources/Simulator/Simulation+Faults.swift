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
        guard !perform(action, eventNode: eventNodes[step]) else { return }
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
            guard let resolved = faultResolver.resolve(wanted, in: clusterView), resolved.contains(node) else { return }
        }
        triggers[index].seen += 1
        guard triggers[index].seen >= trigger.occurrence else { return }
        let step = triggers.remove(at: index).step
        eventNodes[step] = node
        record(node: node, .triggerFired(step: step))
        if trigger.delay > .zero {
            queue.schedule(.fault(step: step), at: now + trigger.delay)
        } else {
            if sending, holding == node { releaseEverything(node) }
            fire(step: step)
        }
    }

    // MARK: Actions

    /// Carries out `action` (of a step fired by a trigger at `eventNode`); false when a role target
    /// could not be resolved.
    func perform(_ action: FaultAction, eventNode: Int? = nil) -> Bool {
        var view = clusterView
        view.eventNode = eventNode
        guard let targets = faultResolver.apply(action, in: view, network: &network, droppedKinds: &droppedKinds) else { return false }
        switch action {
        case .pause:
            for node in targets { nodes[node].paused = true; nodes[node].scheduledTick = nil }
        case .resume:
            for node in targets { resume(node) }
        case .slow(_, let factor):
            for node in targets { nodes[node].slowFactor = factor }
        case .clockRate(_, let rate):
            for node in targets {
                nodes[node].clock.setRate(rate, at: now)
                nodes[node].scheduledTick = nil
                rescheduleTick(node)
            }
        case .inject(_, let fault):
            for node in targets { queue.schedule(.inject(node: node, fault), at: now) }
        default:
            break
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
        let states = nodes.map { node in
            NodeFaultState(crashed: !node.isUp && node.started, paused: node.paused, slowed: node.slowFactor != 1, clockChanged: node.clock.rate != 1)
        }
        let last = faultLevels[faultLevels.count - 1]
        guard let level = FaultLevel.next(after: last, at: now, description: description, network: network, droppedKinds: droppedKinds,
                                          up: nodes.map(\.isUp), nodes: states) else { return }
        if last.start == now { faultLevels.removeLast() }
        faultLevels.append(level)
    }

    /// What fault steps resolve against now.
    var clusterView: ClusterView {
        ClusterView(up: nodes.map(\.isUp), paused: nodes.map(\.paused), leader: currentLeaderIndex, reportsRoles: reportsRoles,
                    coordinator: lastCoordinator)
    }
}
