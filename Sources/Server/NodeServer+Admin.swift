import ConsensusCore
import Foundation
import Glibc
import Runtime
import NodeHost
import Raft
import Sharding
import Simulator
import Storage

/// The node's admin channel (`AdminProtocol`): where the runner of `conlab run --real` sets the
/// faults of `InjectedFaults` and reads observations and the applied state.
extension NodeServer {
    func openAdmin() throws {
        guard let address = member.admin else { return }
        let listener = try TCPListener(loop: loop, address: address, connectionOutputLimit: Self.clientOutputLimit)
        listener.onAccept = { [weak self] connection in self?.acceptAdmin(connection) }
        listener.onAcceptFailure = { [weak self] error in self?.log.write("accepting an admin connection failed: \(error)") }
        adminListener = listener
    }

    private func acceptAdmin(_ connection: TCPConnection) {
        guard isRunning else { return connection.close() }
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: 0 ... .max, using: &generator) }
        let link = AdminLink(connection: connection, nonce: nonce)
        adminLinks[ObjectIdentifier(link)] = link
        connection.onRead = { [weak self, unowned link] bytes in self?.readAdmin(bytes, from: link) }
        connection.onClose = { [weak self, unowned link] _ in self?.adminLinks[ObjectIdentifier(link)] = nil }
        _ = connection.write(Array("\(AdminProtocol.greeting) \(Hex.encode(nonce))\n".utf8))
    }

    private func readAdmin(_ bytes: UnsafeRawBufferPointer, from link: AdminLink) {
        guard isRunning else { return }
        link.reader.append(bytes)
        while true {
            let line: String
            do {
                guard let next = try link.reader.next() else { return }
                line = next
            } catch {
                return link.refuse("a line longer than \(AdminProtocol.maximumLineBytes) bytes")
            }
            guard link.isAuthenticated else {
                guard line.hasPrefix("proof "), let code = Hex.decode(line.dropFirst(6)),
                      HMACSHA256(key: configuration.secret).isValid(code, for: AdminProtocol.provenBytes(nonce: link.nonce)) else {
                    log.write("refused an admin connection from \(link.connection.peer): no proof of the cluster secret")
                    return link.refuse("the proof does not match the cluster secret")
                }
                link.isAuthenticated = true
                link.answer("OK")
                continue
            }
            link.answer(adminCommand(line.split(separator: " ").map(String.init)))
        }
    }

    /// Carries out one command; the answer line.
    private func adminCommand(_ words: [String]) -> String {
        guard let name = words.first else { return "ERR empty command" }
        let arguments = Array(words.dropFirst())
        switch name {
        case "cut":
            guard let peers = peerIDs(arguments) else { return "ERR unknown node in \(arguments)" }
            faults.cut = Set(peers)
        case "drop":
            guard let peer = arguments.first.flatMap({ peerIDs([$0])?.first }) else { return "ERR drop needs a node" }
            faults.dropped[peer] = arguments.count > 1 ? Set(arguments.dropFirst()) : nil
        case "link":
            guard let peer = arguments.first.flatMap({ peerIDs([$0])?.first }) else { return "ERR link needs a node" }
            guard arguments.count > 1 else { faults.links[peer] = nil; break }
            guard let profile = AdminProtocol.profile(Array(arguments.dropFirst())) else { return "ERR link: not a link profile: \(arguments.dropFirst())" }
            faults.links[peer] = profile
        case "clock":
            guard arguments.count == 1, let rate = Double(arguments[0]), rate > 0, rate.isFinite else { return "ERR clock needs a positive rate" }
            faults.clock.setRate(rate, at: MonotonicClock.now())
            rearmTick()
        case "slow":
            guard arguments.count == 1, let microseconds = Int64(arguments[0]), microseconds >= 0 else { return "ERR slow needs microseconds" }
            faults.slowDelay = .microseconds(microseconds)
        case "arm":
            guard arguments.count == 3, let step = Int(arguments[0]), let event = Self.triggerEvent(arguments[1], arguments[2]) else {
                return "ERR arm needs STEP sent|received|role|committed VALUE"
            }
            faults.armed[step] = event
        case "disarm":
            guard arguments.count == 1, let step = Int(arguments[0]) else { return "ERR disarm needs STEP" }
            faults.armed[step] = nil
        case "inject":
            guard arguments.count == 3, arguments[0] == "reject", let count = Int(arguments[2]), count > 0 else {
                return "ERR inject needs reject PHASE|- COUNT"
            }
            guard let injecting = self as? any FaultInjecting else { return "ERR \(Backend.protocolName) exhibits no protocol-level fault" }
            injecting.inject(.reject(phase: arguments[1] == "-" ? nil : arguments[1], count: count))
        case "record":
            faults.recording = true
        case "events":
            guard arguments.count == 1, let from = Int(arguments[0]), from >= 0 else { return "ERR events needs the number of the first observation not yet read" }
            let (first, items) = faults.observations(from: from)
            return "OK \(first) " + JSONValue.array(items).serialized
        case "state":
            return "OK " + appliedState.serialized
        case "buckets":
            guard let store = shardStore else { return "ERR not a shard group's node" }
            return (["OK"] + store.buckets.map(AdminProtocol.word)).joined(separator: " ")
        case "decisions":
            guard let store = shardStore else { return "ERR not a shard group's node" }
            return "OK " + JSONValue.object(store.decisions.sorted { $0.key < $1.key }.map { ($0.key, .bool($0.value)) }).serialized
        default:
            return "ERR unknown command \(name)"
        }
        return "OK"
    }

    static func triggerEvent(_ kind: String, _ value: String) -> Trigger.Event? {
        switch kind {
        case "sent": .sent(kind: value)
        case "received": .received(kind: value)
        case "role": Role(rawValue: value).map { .role($0) }
        case "committed": LogIndex(value).map { .committed($0) }
        default: nil
        }
    }

    /// At an event an armed trigger matches, the node stops itself (SIGSTOP) before the event's
    /// message leaves or is processed, after syncing what it wrote (the simulator's "logged,
    /// then crashed before sending"), and leaves the step's number in `trigger` in its data
    /// directory. The runner, seeing the process stopped, reads it and applies the step — a
    /// crash kills the node right there — or lets the node go on with SIGCONT, having left in
    /// `trigger-wake` what the node must carry out first (the step's filter, the trigger armed
    /// again). The trigger is disarmed here: stopping again at the next message of the same
    /// step, while the runner is still talking to the node, would stall both.
    func stopIfTriggered(_ event: Trigger.Event) {
        guard let step = faults.armedStep(matching: event) else { return }
        faults.armed[step] = nil
        do { try host.storage.sync() } catch { return fail("syncing the log failed: \(error); stopping") }
        let line = "\(step) \(MonotonicClock.now().microseconds)\n"
        let path = (dataDirectory as NSString).appendingPathComponent(AdminProtocol.triggerFile)
        guard FileManager.default.createFile(atPath: path, contents: Data(line.utf8)) else {
            return log.write("trigger of step \(step + 1) fired, but \(path) cannot be written; going on")
        }
        kill(getpid(), SIGSTOP)
        carryOutWakeCommands()
    }

    /// The admin lines the runner left for this node as it let it go on from a trigger. The runner
    /// writes the file before its SIGCONT, but a stopped process can be seen running again a few
    /// milliseconds before that, so the node waits for the file (as if still stopped), within a bound.
    private func carryOutWakeCommands() {
        let path = (dataDirectory as NSString).appendingPathComponent(AdminProtocol.wakeFile)
        let deadline = MonotonicClock.now() + AdminProtocol.wakeFileWait
        var text = try? String(contentsOfFile: path, encoding: .utf8)
        while text == nil, MonotonicClock.now() < deadline {
            usleep(500)
            text = try? String(contentsOfFile: path, encoding: .utf8)
        }
        guard let text else { return log.write("woke from a trigger without the runner's \(AdminProtocol.wakeFile); going on") }
        try? FileManager.default.removeItem(atPath: path)
        for line in text.split(separator: "\n") {
            let answer = adminCommand(line.split(separator: " ").map(String.init))
            if answer.hasPrefix("ERR") { log.write("on waking from a trigger, \(line): \(answer)") }
        }
    }

    private func peerIDs(_ names: [String]) -> [NodeID]? {
        var peers: [NodeID] = []
        for name in names {
            guard let member = configuration.members.first(where: { $0.id.description == name }) else { return nil }
            peers.append(member.id)
        }
        return peers
    }

    /// A shard group's replica's state machine, as applied so far; nil for any other node.
    private var shardStore: ShardStore? { (host.backend as? Raft)?.store as? ShardStore }

    /// The replica's key-value state, as the lab compares replicas after a run; null for a node
    /// that holds none. Read through the lab's inspection protocol when the backend has it: the
    /// channel is authenticated, and reading changes nothing.
    private var appliedState: JSONValue {
        guard let backend = host.backend as? any LabBackend, let data = backend.appliedData else { return .null }
        return .object(data.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
    }
}

/// A node whose backend can exhibit protocol-level faults (`LabBackend.inject`): the lab's
/// backends all can, but the runtime's host never requires it, so the admin channel asks.
protocol FaultInjecting {
    func inject(_ fault: InjectedFault)
}

extension NodeServer: FaultInjecting where Backend: LabBackend {
    /// A step of its own, as the simulator delivers an injected fault; like every fault set over
    /// this channel it lives in the process (in the backend's volatile state), so a restart clears it.
    func inject(_ fault: InjectedFault) {
        step { host, now throws(StorageError) in try host.inject(fault, at: now) }
    }
}

/// One admin connection: its line reader and whether it proved the secret.
final class AdminLink {
    let connection: TCPConnection
    let nonce: [UInt8]
    var reader = LineReader()
    var isAuthenticated = false

    init(connection: TCPConnection, nonce: [UInt8]) {
        self.connection = connection
        self.nonce = nonce
    }

    func answer(_ line: String) {
        _ = connection.write(Array((line + "\n").utf8))
    }

    func refuse(_ reason: String) {
        answer("ERR \(reason)")
        connection.closeAfterFlush()
    }
}
