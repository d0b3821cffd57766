import ConsensusCore

/// One scenario of a hunt, typed where shrinking changes it (cluster size, clients, keys, load,
/// run length, fault steps) and kept as scenario-file JSON where it does not. `document` is a
/// normal scenario file, so that what the hunt ran is what `conlab run` replays.
public struct HuntCase: Sendable, Hashable {
    /// How the clients load the cluster.
    public enum Load: Sendable, Hashable {
        /// Closed loop: each client waits for its answer, then thinks for a uniform time.
        case closed(think: ClosedRange<TimeSpan>)
        /// Open loop: requests per second per node, with at most `outstanding` per client.
        case open(rate: Double, outstanding: Int)
    }

    /// One fault step: timed, `{"at": "1500ms", "<action>": <value>}`, or fired by a protocol
    /// event, `{"when": {"sent": "COMMIT", "node": "n2", "after": "1500ms", "delay": "50us"}, ...}`.
    public struct Step: Sendable, Hashable {
        /// When a timed step acts; when a triggered step starts counting events (its `after`), so
        /// that a shorter run drops both kinds of step past its end alike.
        public var at: TimeSpan
        public var action: String
        public var value: JSONValue
        /// The event that fires the step, nil for a timed step.
        public var when: Moment?

        public init(at: TimeSpan, action: String, value: JSONValue, when: Moment? = nil) {
            self.at = at
            self.action = action
            self.value = value
            self.when = when
        }

        var document: JSONValue {
            guard let when else { return .object([("at", .string(at.description)), (action, value)]) }
            return .object([("when", when.document(after: at)), (action, value)])
        }
    }

    /// A protocol moment as a scenario's `when` names it: the `occurrence`-th event of a kind
    /// (`sent`/`received` a message type, or took a `role`) at `node` (any node when nil), and
    /// how long after it the step acts.
    public struct Moment: Sendable, Hashable {
        /// `sent`, `received` or `role`.
        public var event: String
        /// The message type (`COMMIT`) or role (`leader`).
        public var subject: String
        /// `"leader"`, `"coordinator"`, `"n3"`; nil for any node.
        public var node: String?
        public var occurrence: Int
        public var delay: TimeSpan

        func document(after: TimeSpan) -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [(event, .string(subject))]
            if let node { members.append(("node", .string(node))) }
            members += [("occurrence", .number(Double(occurrence))), ("after", .string(after.description)), ("delay", .string(delay.description))]
            return .object(members)
        }
    }

    public var name: String
    /// The file's description: where the scenario came from and the command that replays it.
    public var note: String
    public var seed: UInt64
    public var nodes: Int
    public var duration: TimeSpan
    public var quiescence: TimeSpan
    /// The backend as a scenario's `backends` lists it: `{"protocol": "raft", "options": {...}}`.
    public var backend: JSONValue
    public var clientsPerNode: Int
    public var keys: Int
    public var zipf: Double?
    public var mix: [(name: String, weight: Double)]
    public var load: Load
    /// The scenario's `network` object.
    public var network: JSONValue
    /// The scenario's `storage` object, nil for the defaults (memory engine, fsync on).
    public var storage: JSONValue?
    /// The scenario's `nemesis` object; nil once its schedule is written out as `faults`.
    public var nemesis: JSONValue?
    public var faults: [Step]

    /// The scenario file: one backend, one seed, the replay command in its description.
    public var document: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("version", .number(1)), ("name", .string(name)), ("description", .string(note)),
            ("nodes", .number(Double(nodes))), ("duration", .string(duration.description)), ("quiescence", .string(quiescence.description)),
            ("seeds", .array([.number(Double(seed))])), ("backends", .array([backend])), ("workload", workload), ("network", network),
        ]
        if let storage { members.append(("storage", storage)) }
        if !faults.isEmpty { members.append(("faults", .array(faults.map(\.document)))) }
        if let nemesis { members.append(("nemesis", nemesis)) }
        return .object(members)
    }

    var workload: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("clientsPerNode", .number(Double(clientsPerNode)))]
        switch load {
        case .closed(let think):
            members += [("mode", .string("closed")), ("think", .object([("uniform", .array([.string(think.lowerBound.description), .string(think.upperBound.description)]))]))]
        case .open(let rate, let outstanding):
            members += [("mode", .string("open")), ("rate", .number(rate)), ("outstanding", .number(Double(outstanding)))]
        }
        members.append(("keys", .number(Double(keys))))
        if let zipf { members.append(("distribution", .object([("zipf", .number(zipf))]))) }
        members += [("mix", .object(mix.map { ($0.name, .number($0.weight)) })), ("timeout", .string("1s"))]
        return .object(members)
    }

    /// The file as a person reads it: one member a line, one fault step a line.
    public var text: String { HuntText.render(document, listing: ["faults"]) }

    public static func == (lhs: HuntCase, rhs: HuntCase) -> Bool { lhs.document == rhs.document }
    public func hash(into hasher: inout Hasher) { hasher.combine(document) }
}

/// JSON as a person reads it: one top-level member a line, and the members named in `listing`
/// (fault steps, violations) one element a line. Any JSON reader reads it back.
enum HuntText {
    static func render(_ document: JSONValue, listing: Set<String>) -> String {
        guard case .object(let members) = document else { return document.serialized + "\n" }
        let lines = members.map { member -> String in
            let head = "  " + JSONValue.string(member.key).serialized + ": "
            if listing.contains(member.key), case .array(let items) = member.value, !items.isEmpty {
                return head + "[\n" + items.map { "    " + $0.serialized }.joined(separator: ",\n") + "\n  ]"
            }
            return head + member.value.serialized
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }
}
