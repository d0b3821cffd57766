import ConsensusCore

/// Parameter sweeps: `"sweep": {"nodes": [3, 5, 7], "network.loss": [0, 0.05, 0.2]}` runs the cross
/// product. A path names a value of the scenario document by member names and array positions
/// (`backends.1.options.heartbeat`); each point is the document with those values replaced, then
/// validated like any scenario, so a bad value is reported at its point.
enum SweepExpansion {
    struct Point {
        var document: JSONValue
        var label: String
    }

    static func points(of document: JSONValue, sweep: JSONField) throws(ScenarioError) -> [Point] {
        guard case .object(let axes) = sweep.value, !axes.isEmpty else { throw sweep.error("expected an object of paths to lists of values") }
        var base = document
        base.remove("sweep")
        var points = [Point(document: base, label: "")]
        for axis in axes {
            let field = sweep.child(axis.key, axis.value)
            let values = try field.array()
            guard !values.isEmpty else { throw field.error("needs at least one value") }
            let path = axis.key.split(separator: ".").map(String.init)
            var next: [Point] = []
            for point in points {
                for value in values {
                    var document = point.document
                    guard document.set(path, to: value.value) else {
                        throw field.error("\"\(axis.key)\" does not name a value of this scenario (write every level, e.g. \"network.loss\" with a \"network\" object present)")
                    }
                    let text: String = if case .string(let s) = value.value { s } else { value.value.serialized }
                    next.append(Point(document: document, label: point.label.isEmpty ? "\(axis.key)=\(text)" : "\(point.label);\(axis.key)=\(text)"))
                }
            }
            points = next
        }
        return points
    }
}

extension JSONValue {
    mutating func remove(_ key: String) {
        guard case .object(var members) = self else { return }
        members.removeAll { $0.key == key }
        self = .object(members)
    }

    /// Sets the value at `path`; a missing last member of an existing object is added. False when
    /// the path leads nowhere.
    mutating func set(_ path: [String], to value: JSONValue) -> Bool {
        guard let head = path.first else { self = value; return true }
        let rest = Array(path.dropFirst())
        switch self {
        case .object(var members):
            if let index = members.firstIndex(where: { $0.key == head }) {
                guard members[index].value.set(rest, to: value) else { return false }
            } else {
                guard rest.isEmpty else { return false }
                members.append((head, value))
            }
            self = .object(members)
            return true
        case .array(var values):
            guard let index = Int(head), values.indices.contains(index), values[index].set(rest, to: value) else { return false }
            self = .array(values)
            return true
        default:
            return false
        }
    }
}
