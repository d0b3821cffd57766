import Foundation
import ConsensusCore

/// A JSON value together with where it sits in its file, so that every validation error can name
/// the file, the JSON path and the reason.
package struct JSONField {
    package let value: JSONValue
    package let path: String
    package let file: String

    package init(value: JSONValue, path: String, file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    package func error(_ reason: String) -> ScenarioError { ScenarioError(file: file, path: path, reason: reason) }

    package func child(_ key: String, _ value: JSONValue) -> JSONField {
        JSONField(value: value, path: path == "$" ? key : "\(path).\(key)", file: file)
    }

    /// The members of an object, rejecting any name not in `allowed` (typos must not be ignored).
    package func object(allowing allowed: [String]) throws(ScenarioError) -> JSONObject {
        guard case .object(let members) = value else { throw error("expected an object, found \(value.typeName)") }
        for member in members where !allowed.contains(member.key) {
            let near = allowed.filter { $0.lowercased() == member.key.lowercased() || $0.replacingOccurrences(of: "-", with: "") == member.key.replacingOccurrences(of: "-", with: "") }
            let hint = near.first.map { " (did you mean \"\($0)\"?)" } ?? "; allowed: \(allowed.joined(separator: ", "))"
            throw child(member.key, member.value).error("unknown field \"\(member.key)\"\(hint)")
        }
        return JSONObject(field: self, members: members)
    }

    package func array() throws(ScenarioError) -> [JSONField] {
        guard case .array(let values) = value else { throw error("expected an array, found \(value.typeName)") }
        return values.enumerated().map { JSONField(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    package func string() throws(ScenarioError) -> String {
        guard case .string(let text) = value else { throw error("expected a string, found \(value.typeName)") }
        return text
    }

    package func bool() throws(ScenarioError) -> Bool {
        guard case .bool(let flag) = value else { throw error("expected true or false, found \(value.typeName)") }
        return flag
    }

    package func int(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            throw error("expected an integer, found \(value.serialized)")
        }
        guard range.contains(Int(number)) else { throw error("must be between \(range.lowerBound) and \(range.upperBound), found \(Int(number))") }
        return Int(number)
    }

    package func number(in range: ClosedRange<Double>) throws(ScenarioError) -> Double {
        guard case .number(let number) = value else { throw error("expected a number, found \(value.typeName)") }
        guard range.contains(number) else { throw error("must be between \(JSONValue.format(range.lowerBound)) and \(JSONValue.format(range.upperBound)), found \(JSONValue.format(number))") }
        return number
    }

    package func probability() throws(ScenarioError) -> Double { try number(in: 0...1) }

    /// `"150ms"`, `"10s"`, `"250us"`: a number without a unit is refused.
    package func duration() throws(ScenarioError) -> TimeSpan {
        guard case .string(let text) = value else {
            throw error("expected a duration with a unit such as \"150ms\" or \"10s\", found \(value.serialized)")
        }
        do { return try TimeSpan.parse(bounded: text) } catch { throw self.error(error.description) }
    }

    /// A duration shorter than `limit`, the run's length (a latency or sync that long never ends).
    package func duration(below limit: TimeSpan) throws(ScenarioError) -> TimeSpan {
        let span = try duration()
        guard span < limit else { throw error("must be shorter than the run (\(limit)), found \(span)") }
        return span
    }

    /// A duration of at least `minimum` (intervals shorter than that flood a run with events).
    package func duration(atLeast minimum: TimeSpan) throws(ScenarioError) -> TimeSpan {
        let span = try duration()
        guard span >= minimum else { throw error("must be at least \(minimum), found \(span)") }
        return span
    }
}

/// The members of a validated object.
package struct JSONObject {
    package let field: JSONField
    package let members: [(key: String, value: JSONValue)]

    package subscript(key: String) -> JSONField? {
        members.first { $0.key == key }.map { field.child(key, $0.value) }
    }

    package func required(_ key: String) throws(ScenarioError) -> JSONField {
        guard let value = self[key] else { throw field.error("missing field \"\(key)\"") }
        return value
    }

    package var keys: [String] { members.map(\.key) }
}
