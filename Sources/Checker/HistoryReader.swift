import ConsensusCore
import Foundation

/// Reads `history.jsonl` (DESIGN.md § Outputs): one JSON object a line, the inverse of
/// `HistoryOperation.jsonLine`.
///
/// Blank lines are skipped and unknown members ignored (other tools add their own). Everything the
/// checker relies on is validated, and the first bad line stops the read with its line number and
/// the reason: a history the checker half-understood would give a verdict nobody should trust.
public enum HistoryReader {
    /// Reads the history file at `path`, streaming it in large chunks.
    public static func read(path: String) throws(HistoryError) -> [HistoryOperation] {
        var lines = HistoryLines()
        do { try InputFile.forEachLine(at: path) { lines.add($0, number: $1) } } catch { throw HistoryError(file: path, reason: error.reason) }
        do {
            return try lines.finish()
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    /// Parses the text of a history file.
    public static func parse(_ text: String) throws(HistoryError) -> [HistoryOperation] {
        var lines = HistoryLines()
        InputFile.forEachLine(of: text) { lines.add($0, number: $1) }
        return try lines.finish()
    }

    /// One line, through the specialised scanner; any line it does not take (a syntax or field
    /// error, or a form it leaves alone, such as `1.0` for an integer or an object among unknown
    /// members) goes through the generic JSON parser, which either accepts it or says what is wrong.
    /// So every error message comes from one place, and the scanner only has to be right about the
    /// lines it accepts.
    static func parseLine(_ bytes: UnsafeBufferPointer<UInt8>, number: Int, scanner: inout HistoryLineScanner) throws(HistoryError) -> HistoryOperation {
        if scanner.scan(bytes, line: number), let operation = try? operation(from: scanner) { return operation }
        return try parseLine(String(decoding: bytes, as: UTF8.self), number: number)
    }

    /// One line through the generic JSON parser.
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
        return try operation(from: LineFields(object: value, line: number))
    }

    /// The operation a line's members describe, whichever parser found them.
    static func operation(from fields: some HistoryLineFields) throws(HistoryError) -> HistoryOperation {
        let key = try fields.string(.key)
        let operation = HistoryOperation(
            id: Int(try fields.integer(.id)),
            client: ClientID(Int(try fields.integer(.client))),
            node: NodeID(Int(try fields.integer(.node))),
            command: try command(fields, key: key),
            invoke: Instant(microseconds: try fields.integer(.invokeUs)),
            complete: try fields.optionalInteger(.completeUs).map(Instant.init(microseconds:)),
            outcome: try outcome(fields))
        if let problem = operation.consistencyProblem {
            throw fields.error(problem)
        }
        return operation
    }

    static func command(_ fields: some HistoryLineFields, key: String) throws(HistoryError) -> Command {
        let op = try fields.string(.op)
        switch op {
        case "get": return .get(key: key)
        case "delete": return .delete(key: key)
        case "put": return .put(key: key, value: try fields.string(.value))
        case "append": return .append(key: key, value: try fields.string(.value))
        case "cas":
            return .cas(key: key, expected: try fields.nullableString(.expected), value: try fields.string(.value))
        default:
            throw fields.error("unknown op \"\(op)\" (expected get, put, delete, append or cas)")
        }
    }

    /// The outcome; for an ok get the value read comes with it, since that is its result.
    static func outcome(_ fields: some HistoryLineFields) throws(HistoryError) -> Outcome {
        let name = try fields.string(.outcome)
        let error = try fields.optionalNullableString(.error)
        switch name {
        case "ok":
            try rejectError(error, outcome: name, fields)
            return .ok(try fields.string(.op) == "get" ? .value(try fields.nullableString(.value)) : .done)
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

    static func rejectError(_ error: String?, outcome: String, _ fields: some HistoryLineFields) throws(HistoryError) {
        if let error { throw fields.error("error \"\(error)\" on an operation whose outcome is \(outcome)") }
    }
}

/// The operations of a history as its lines arrive, with the first bad line kept as the error.
///
/// After a bad line the rest is not parsed, but the caller keeps feeding lines so that a byte that
/// is not UTF-8 further on is still reported first (`InputFile.forEachLine`).
struct HistoryLines {
    var operations: [HistoryOperation] = []
    /// The line of each operation, to name where a duplicated id first appeared.
    var lineNumbers: [Int] = []
    /// Per id, its line: built only once ids stop increasing, which the lab's files never do.
    var firstLine: [Int: Int]?
    var failure: HistoryError?
    var scanner = HistoryLineScanner()

    mutating func add(_ line: UnsafeBufferPointer<UInt8>, number: Int) {
        guard failure == nil, !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else { return }
        do {
            let operation = try HistoryReader.parseLine(line, number: number, scanner: &scanner)
            try checkUnique(operation.id, number: number)
            operations.append(operation)
            lineNumbers.append(number)
        } catch {
            failure = error
        }
    }

    mutating func checkUnique(_ id: Int, number: Int) throws(HistoryError) {
        if firstLine == nil, let last = operations.last, id <= last.id {
            firstLine = Dictionary(zip(operations.map(\.id), lineNumbers), uniquingKeysWith: { first, _ in first })
        }
        guard firstLine != nil else { return }
        if let first = firstLine?[id] {
            throw HistoryError(line: number, reason: "duplicate id \(id) (first on line \(first))")
        }
        firstLine?[id] = number
    }

    func finish() throws(HistoryError) -> [HistoryOperation] {
        if let failure { throw failure }
        return operations
    }
}

/// Typed access to the members of one history line, with errors that name the line.
protocol HistoryLineFields {
    var line: Int { get }
    func string(_ field: HistoryField) throws(HistoryError) -> String
    /// A field that must be present and may be `null` (a get's value, a cas's expected value).
    func nullableString(_ field: HistoryField) throws(HistoryError) -> String?
    /// A field that may be absent or `null`.
    func optionalNullableString(_ field: HistoryField) throws(HistoryError) -> String?
    /// Ids and times are never negative: runs start at time zero and number from zero or one, and
    /// the checker's tables index by them.
    func integer(_ field: HistoryField) throws(HistoryError) -> Int64
    /// An integer that may be `null` (`complete_us` of an indeterminate operation).
    func optionalInteger(_ field: HistoryField) throws(HistoryError) -> Int64?
}

extension HistoryLineFields {
    func error(_ reason: String) -> HistoryError { HistoryError(line: line, reason: reason) }
}

/// The members of a history line that the checker reads.
enum HistoryField: String, CaseIterable {
    case id, client, node, op, key, value, expected, outcome, error
    case invokeUs = "invoke_us"
    case completeUs = "complete_us"
}

/// A line's members as the generic JSON parser found them, with errors that name the line and field.
struct LineFields: HistoryLineFields {
    let object: JSONValue
    let line: Int

    func member(_ field: HistoryField) throws(HistoryError) -> JSONValue {
        guard let value = object[field.rawValue] else { throw error("missing field \"\(field.rawValue)\"") }
        return value
    }

    func string(_ field: HistoryField) throws(HistoryError) -> String {
        let value = try member(field)
        guard case .string(let text) = value else { throw error("field \"\(field.rawValue)\" must be a string, found \(value.typeName)") }
        return text
    }

    func nullableString(_ field: HistoryField) throws(HistoryError) -> String? {
        let value = try member(field)
        switch value {
        case .null: return nil
        case .string(let text): return text
        default: throw error("field \"\(field.rawValue)\" must be a string or null, found \(value.typeName)")
        }
    }

    func optionalNullableString(_ field: HistoryField) throws(HistoryError) -> String? {
        guard object[field.rawValue] != nil else { return nil }
        return try nullableString(field)
    }

    func integer(_ field: HistoryField) throws(HistoryError) -> Int64 {
        let name = field.rawValue
        let value = try member(field)
        guard case .number(let number) = value else { throw error("field \"\(name)\" must be an integer, found \(value.typeName)") }
        // Doubles are exact up to 2^53; beyond that a microsecond count or id would be silently rounded.
        guard number.rounded() == number, abs(number) <= 9_007_199_254_740_992 else {
            throw error("field \"\(name)\" must be an integer, found \(JSONValue.format(number))")
        }
        guard number >= 0 else { throw error("field \"\(name)\" must not be negative, found \(JSONValue.format(number))") }
        return Int64(number)
    }

    func optionalInteger(_ field: HistoryField) throws(HistoryError) -> Int64? {
        if case .null = try member(field) { return nil }
        return try integer(field)
    }
}
