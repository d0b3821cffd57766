/// A point in virtual time, in microseconds since the start of a run.
///
/// Protocols never read a clock: the driver passes `now` into every step. Under clock skew the
/// driver passes the node's own (skewed) notion of time.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    @inlinable public init(microseconds: Int64) { self.microseconds = microseconds }

    public static let zero = Instant(microseconds: 0)
    /// Later than any time a run reaches; useful as "never".
    public static let distantFuture = Instant(microseconds: Int64.max / 4)

    @inlinable public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }
    @inlinable public static func + (lhs: Instant, rhs: TimeSpan) -> Instant { Instant(microseconds: lhs.microseconds + rhs.microseconds) }
    @inlinable public static func - (lhs: Instant, rhs: TimeSpan) -> Instant { Instant(microseconds: lhs.microseconds - rhs.microseconds) }
    @inlinable public static func - (lhs: Instant, rhs: Instant) -> TimeSpan { TimeSpan(microseconds: lhs.microseconds - rhs.microseconds) }
    @inlinable public static func += (lhs: inout Instant, rhs: TimeSpan) { lhs.microseconds += rhs.microseconds }

    /// Milliseconds since the start of the run.
    public var milliseconds: Double { Double(microseconds) / 1000 }

    public var description: String { TimeSpan(microseconds: microseconds).description }
}

/// A span of virtual time in microseconds. Scenario files write durations as `"150ms"`, `"10s"`, `"250us"`.
public struct TimeSpan: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    @inlinable public init(microseconds: Int64) { self.microseconds = microseconds }

    public static let zero = TimeSpan(microseconds: 0)

    @inlinable public static func microseconds(_ value: Int64) -> TimeSpan { TimeSpan(microseconds: value) }
    @inlinable public static func milliseconds(_ value: Int64) -> TimeSpan { TimeSpan(microseconds: value * 1_000) }
    @inlinable public static func seconds(_ value: Int64) -> TimeSpan { TimeSpan(microseconds: value * 1_000_000) }

    @inlinable public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.microseconds < rhs.microseconds }
    @inlinable public static func + (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan { TimeSpan(microseconds: lhs.microseconds + rhs.microseconds) }
    @inlinable public static func - (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan { TimeSpan(microseconds: lhs.microseconds - rhs.microseconds) }
    @inlinable public static func * (lhs: TimeSpan, rhs: Int64) -> TimeSpan { TimeSpan(microseconds: lhs.microseconds * rhs) }
    @inlinable public static func / (lhs: TimeSpan, rhs: Int64) -> TimeSpan { TimeSpan(microseconds: lhs.microseconds / rhs) }
    /// Scales by a real factor, rounding to the nearest microsecond.
    @inlinable public func scaled(by factor: Double) -> TimeSpan { TimeSpan(microseconds: Int64((Double(microseconds) * factor).rounded())) }

    public var milliseconds: Double { Double(microseconds) / 1000 }
    public var seconds: Double { Double(microseconds) / 1_000_000 }

    /// The shortest exact form: `"1.5s"` is written `"1500ms"`, `"2s"` stays `"2s"`.
    public var description: String {
        let us = microseconds
        if us != 0, us % 1_000_000 == 0 { return "\(us / 1_000_000)s" }
        if us != 0, us % 1_000 == 0 { return "\(us / 1_000)ms" }
        return "\(us)us"
    }

    /// Parses `"150ms"`, `"10s"`, `"250us"`, `"1.5s"`, `"2m"`. A number without a unit is rejected:
    /// "150" could mean anything, and a silent guess is how experiments go wrong. So is a span that
    /// does not fit in 64 bits of microseconds (`"9999999999999999999s"`): converting it would trap.
    public init?(parsing text: String) {
        let units: [(suffix: String, scale: Double)] = [("us", 1), ("µs", 1), ("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let value = Double(number), value.isFinite, value >= 0 else { return nil }
            let microseconds = (value * scale).rounded()
            // 2^63 is the first Double beyond Int64: anything at or above it cannot be converted.
            guard microseconds < 0x1p63 else { return nil }
            self.init(microseconds: Int64(microseconds))
            return
        }
        return nil
    }

    /// The longest run conlab simulates (duration plus quiescence), and so the longest span any
    /// scenario or backend option may name. Histories, event queues and fault schedules grow with
    /// simulated time; beyond a few hours a run would take hours of wall time and gigabytes, and
    /// spans of this size keep all time arithmetic (sums, ×4 reorder delays, ×100 slow clocks) far
    /// from 64-bit overflow.
    package static let longestRun = TimeSpan.seconds(6 * 3_600)
    /// `longestRun` for messages: `21600s, 6 hours`.
    package static let longestRunText = "\(longestRun), \(longestRun.microseconds / 3_600_000_000) hours"

    /// Parses `text` as `init(parsing:)` does and bounds it by `longestRun`; the error is a
    /// sentence for the user, so every reader of durations (scenario files, backend options)
    /// explains a bad one alike.
    package static func parse(bounded text: String) throws(TimeSpanError) -> TimeSpan {
        guard let span = TimeSpan(parsing: text) else {
            let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            let unit = text.dropFirst(digits.count)
            guard !digits.isEmpty, ["us", "µs", "ms", "s", "m"].contains(unit) else { throw TimeSpanError(text: text, reason: .malformed) }
            throw TimeSpanError(text: text, reason: .tooLong)
        }
        guard span <= longestRun else { throw TimeSpanError(text: text, reason: .tooLong) }
        return span
    }
}

/// A duration text that names no span a run can use.
package struct TimeSpanError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Reason: Hashable, Sendable {
        /// Not a number with a unit (`"150"`, `"1e9s"`, `"-5ms"`).
        case malformed
        /// Beyond `TimeSpan.longestRun` (or beyond 64 bits of microseconds altogether).
        case tooLong
    }

    var text: String
    package var reason: Reason

    package var description: String {
        switch reason {
        case .malformed: "\"\(text)\" is not a duration; write a number with a unit: \"250us\", \"150ms\", \"10s\", \"2m\""
        case .tooLong: "\"\(text)\" is longer than the longest run conlab simulates (\(TimeSpan.longestRunText))"
        }
    }
}
