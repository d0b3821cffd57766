import ConsensusCore
import Foundation

/// Reads `history.jsonl` (DESIGN.md § Outputs): one JSON object a line, the inverse of
/// `HistoryOperation.jsonLine`.
///
/// Blank lines are skipped and unknown members ignored (other tools add their own). Everything the
/// checker relies on is validated, and the first bad line stops the read with its line number and
/// the reason: a history the checker half-understood would give a verdict nobody should trust.
public enum HistoryReader {
    /// Reads the history file at `path`.
    public static func read(path: String) throws(HistoryError) -> [HistoryOperation] {
        let text: String
        do { text = try InputFile.text(at: path) } catch { throw HistoryError(file: path, reason: error.reason) }
        do {
            return try parse(text)
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    /// Parses the text of a history file.
    public static func parse(_ text: String) throws(HistoryError) -> [HistoryOperation] {
        var operations: [HistoryOperation] = []
        var firstLine: [Int: Int] = [:]
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let operation = try parseLine(String(decoding: line, as: UTF8.self), number: lineNumber)
            if let first = firstLine[operation.id] {
                throw HistoryError(line: lineNumber, reason: "duplicate id \(operation.id) (first on line \(first))")
            }
            firstLine[operation.id] = lineNumber
            operations.append(operation)
        }
        return operations
    }

    static func parseLine(_ text: String, number: Int) throws(HistoryError) -> HistoryOperation {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw HistoryError(line: number, reason: "invalid JSON at column \(error.column): \(error.reason)")
        }
        guard case .object = value else {
            throw HistoryError(line: number, reason: "expected a JSON object, found \(value.typeName)")
        }
        let fields = LineFields(object: value, line: number)
        let key = try fields.string("key")
        let operation = HistoryOperation(
            id: Int(try fields.integer("id")),
            client: ClientID(Int(try fields.integer("client"))),
            node: NodeID(Int(try fields.integer("node"))),
            command: try command(fields, key: key),
            invoke: Instant(microseconds: try fields.integer("invoke_us")),
            complete: try fields.optionalInteger("complete_us").map(Instant.init(microseconds:)),
            outcome: try outcome(fields))
        if let problem = operation.consistencyProblem {
            throw HistoryError(line: number, reason: problem)
        }
        return operation
    }

    static func command(_ fields: LineFields, key: String) throws(HistoryError) -> Command {
        let op = try fields.string("op")
        switch op {
        case "get": return .get(key: key)
        case "delete": return .delete(key: key)
        case "put": return .put(key: key, value: try fields.string("value"))
        case "append": return .append(key: key, value: try fields.string("value"))
        case "cas":
            return .cas(key: key, expected: try fields.nullableString("expected"), value: try fields.string("value"))
        default:
            throw fields.error("unknown op \"\(op)\" (expected get, put, delete, append or cas)")
        }
    }

    /// The outcome; for an ok get the value read comes with it, since that is its result.
    static func outcome(_ fields: LineFields) throws(HistoryError) -> Outcome {
        let name = try fields.string("outcome")
        let error = try fields.optionalNullableString("error")
        switch name {
        case "ok":
            try rejectError(error, outcome: name, fields)
            return .ok(try fields.string("op") == "get" ? .value(try fields.nullableString("value")) : .done)
        case "indeterminate":
            try rejectError(error, outcome: name, fields)
            return .indeterminate
        case "fail":
            // Without a reason, a failure only says "no effect": reading it as a refusal claims
            // nothing more, whereas a mismatch would also claim what the value was not.
            guard let error else { return .fail(.refused) }
            guard let kind = FailureKind(rawValue: error) else {
                throw fields.error("unknown error \"\(error)\" (expected cas-mismatch or refused)")
            }
            return .fail(kind)
        default:
            throw fields.error("unknown outcome \"\(name)\" (expected ok, fail or indeterminate)")
        }
    }

    static func rejectError(_ error: String?, outcome: String, _ fields: LineFields) throws(HistoryError) {
        if let error { throw fields.error("error \"\(error)\" on an operation whose outcome is \(outcome)") }
    }
}

/// Typed access to the members of one history line, with errors that name the line and field.
struct LineFields {
    let object: JSONValue
    let line: Int

    func error(_ reason: String) -> HistoryError { HistoryError(line: line, reason: reason) }

    func member(_ name: String) throws(HistoryError) -> JSONValue {
        guard let value = object[name] else { throw error("missing field \"\(name)\"") }
        return value
    }

    func string(_ name: String) throws(HistoryError) -> String {
        let value = try member(name)
        guard case .string(let text) = value else { throw error("field \"\(name)\" must be a string, found \(value.typeName)") }
        return text
    }

    /// A field that must be present and may be `null` (a get's value, a cas's expected value).
    func nullableString(_ name: String) throws(HistoryError) -> String? {
        let value = try member(name)
        switch value {
        case .null: return nil
        case .string(let text): return text
        default: throw error("field \"\(name)\" must be a string or null, found \(value.typeName)")
        }
    }

    /// A field that may be absent or `null`.
    func optionalNullableString(_ name: String) throws(HistoryError) -> String? {
        guard object[name] != nil else { return nil }
        return try nullableString(name)
    }

    /// Ids and times are never negative: runs start at time zero and number from zero or one, and
    /// the checker's tables index by them.
    func integer(_ name: String) throws(HistoryError) -> Int64 {
        let value = try member(name)
        guard case .number(let number) = value else { throw error("field \"\(name)\" must be an integer, found \(value.typeName)") }
        // Doubles are exact up to 2^53; beyond that a microsecond count or id would be silently rounded.
        guard number.rounded() == number, abs(number) <= 9_007_199_254_740_992 else {
            throw error("field \"\(name)\" must be an integer, found \(JSONValue.format(number))")
        }
        guard number >= 0 else { throw error("field \"\(name)\" must not be negative, found \(JSONValue.format(number))") }
        return Int64(number)
    }

    /// An integer that may be `null` (`complete_us` of an indeterminate operation).
    func optionalInteger(_ name: String) throws(HistoryError) -> Int64? {
        if case .null = try member(name) { return nil }
        return try integer(name)
    }
}
