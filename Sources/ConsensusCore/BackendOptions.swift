/// A backend's tunable options, as a scenario sets them:
/// `{"protocol": "raft", "options": {"read": "lease", "prevote": false}}`.
///
/// `init()` gives the defaults; `set` applies one option from the scenario and rejects bad names or
/// values with a reason (the Lab adds the file and JSON path).
public protocol BackendOptions: Sendable, Equatable {
    init()
    /// Every option with its type and default, for `conlab list` and the README.
    static var documentation: [OptionDoc] { get }
    mutating func set(_ name: String, to value: JSONValue) throws(OptionError)
}

public struct OptionDoc: Sendable, Hashable {
    public var name: String
    /// The accepted values, e.g. `"readIndex | log | lease | unsafeLocal"`, `"duration"`, `"boolean"`.
    public var values: String
    /// The default as a scenario file writes it: JSON text (`"100ms"`, `10`, `true`,
    /// `["150ms", "300ms"]`), so that it can be copied into a scenario as it is printed.
    public var defaultValue: String
    public var summary: String

    public init(_ name: String, values: String, default defaultValue: String, _ summary: String) {
        self.name = name
        self.values = values
        self.defaultValue = defaultValue
        self.summary = summary
    }
}

extension OptionDoc {
    /// The `bug` option of a backend with planted bugs: classic mistakes it reintroduces on purpose,
    /// so that a run can show what the checker finds when a protocol rule is broken (README §
    /// Planted bugs). `none`, the default, is the correct protocol.
    public static func plantedBugs<Bug: RawRepresentable & CaseIterable>(_: Bug.Type) -> OptionDoc where Bug.RawValue == String {
        OptionDoc("bug", values: Bug.allCases.map(\.rawValue).joined(separator: " | "), default: "\"none\"",
                  "a planted classic mistake (README § Planted bugs); none is the correct protocol")
    }
}

/// Why an option was refused. `path` is relative to the option (e.g. `[1]` inside a range).
public struct OptionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var option: String
    public var reason: String

    public init(_ option: String, _ reason: String) {
        self.option = option
        self.reason = reason
    }

    public var description: String { "\(option): \(reason)" }

    public static func unknown(_ name: String, known: [OptionDoc]) -> OptionError {
        OptionError(name, "unknown option; known options: \(known.map(\.name).joined(separator: ", "))")
    }
}

/// Typed readers for option values, so every backend reports bad values the same way.
extension JSONValue {
    public func boolOption(_ name: String) throws(OptionError) -> Bool {
        guard case .bool(let value) = self else { throw OptionError(name, "expected true or false, found \(typeName)") }
        return value
    }

    public func intOption(_ name: String, minimum: Int = Int.min) throws(OptionError) -> Int {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 else {
            throw OptionError(name, "expected an integer, found \(self.serialized)")
        }
        guard Int(value) >= minimum else { throw OptionError(name, "must be at least \(minimum), found \(Int(value))") }
        return Int(value)
    }

    public func numberOption(_ name: String, in range: ClosedRange<Double>) throws(OptionError) -> Double {
        guard case .number(let value) = self else { throw OptionError(name, "expected a number, found \(typeName)") }
        guard range.contains(value) else { throw OptionError(name, "must be within \(range.lowerBound)…\(range.upperBound), found \(value)") }
        return value
    }

    public func durationOption(_ name: String) throws(OptionError) -> TimeSpan {
        guard case .string(let text) = self else {
            throw OptionError(name, "expected a duration with a unit such as \"150ms\", found \(serialized)")
        }
        do { return try TimeSpan.parse(bounded: text) } catch { throw OptionError(name, error.description) }
    }

    /// `["150ms", "300ms"]`: an inclusive range of durations, lower bound first.
    public func durationRangeOption(_ name: String) throws(OptionError) -> ClosedRange<TimeSpan> {
        guard case .array(let bounds) = self, bounds.count == 2 else {
            throw OptionError(name, "expected a range as two durations, e.g. [\"150ms\", \"300ms\"]")
        }
        let low = try bounds[0].durationOption(name + "[0]"), high = try bounds[1].durationOption(name + "[1]")
        guard low <= high, low > .zero else { throw OptionError(name, "expected 0 < lower ≤ upper, found \(low)…\(high)") }
        return low...high
    }

    public func choiceOption<T: RawRepresentable & CaseIterable>(_ name: String, as _: T.Type) throws(OptionError) -> T where T.RawValue == String {
        guard case .string(let text) = self, let value = T(rawValue: text) else {
            throw OptionError(name, "expected one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), found \(serialized)")
        }
        return value
    }
}
