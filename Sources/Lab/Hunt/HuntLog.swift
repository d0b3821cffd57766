import ConsensusCore
import Foundation

/// `hunt.json`: what a hunt (or one shard of it) searched and found, without wall-clock figures,
/// so that the merge of a hunt's shards is byte for byte the file one machine writes.
public struct HuntLog: Sendable, Equatable {
    public var backend: String
    public var from: UInt64
    /// The seed count of a `--runs` hunt; nil for a `--time` hunt.
    public var planned: Int?
    public var shard: Shard?
    public var judging: [String]?
    public var keepGoing: Bool
    public var runs = 0
    /// Seeds whose history the checker could not decide within its budget (not violations).
    public var undecided: [UInt64] = []
    public var violations: [HuntViolation] = []

    static let fileName = "hunt.json"

    init(_ request: HuntRequest) {
        backend = request.target.label
        from = request.from
        if case .runs(let count) = request.budget { planned = count }
        shard = request.shard
        judging = request.judging?.names
        keepGoing = request.keepGoing
    }

    var document: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("backend", .string(backend)), ("from", .number(Double(from)))]
        if let planned { members.append(("planned", .number(Double(planned)))) }
        if let shard { members.append(("shard", .string("\(shard.index)/\(shard.count)"))) }
        if let judging { members.append(("judging", .array(judging.map { .string($0) }))) }
        members += [("keepGoing", .bool(keepGoing)), ("runs", .number(Double(runs))), ("undecided", .array(undecided.map { .number(Double($0)) })),
                    ("violations", .array(violations.map { violation in
            var fields: [(key: String, value: JSONValue)] = [
                ("seed", .number(Double(violation.seed))), ("broken", .array(violation.kinds.map { .string($0) })),
                ("message", .string(violation.message)), ("scenario", .string(violation.file)),
            ]
            if let shrunk = violation.shrunk { fields.append(("shrunk", .string(shrunk))) }
            return .object(fields)
        }))]
        return .object(members)
    }

    func write(to directory: String) throws {
        try Data(HuntText.render(document, listing: ["violations"]).utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName))
    }

    /// Whether `directory` holds a hunt's output (so `conlab merge` merges hunts there).
    public static func isHunt(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: directory).appendingPathComponent(fileName).path)
    }

    /// Reads a `hunt.json`; a damaged one is named, never trapped on.
    static func read(from directory: String) throws(MergeError) -> HuntLog {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        let document: JSONValue
        do { document = try JSONValue(parsing: try Merge.text(path)) } catch let error as MergeError { throw error } catch {
            throw MergeError("\(path): invalid JSON at \(error)")
        }
        func fail(_ field: String) -> MergeError { MergeError("\(path): \(field): missing or not what `conlab hunt` writes") }
        func integer(_ value: JSONValue?, _ field: String) throws(MergeError) -> Int {
            guard case .number(let n)? = value, n.rounded() == n, n >= 0, n < 1e15 else { throw fail(field) }
            return Int(n)
        }
        guard case .string(let backend)? = document["backend"], case .bool(let keepGoing)? = document["keepGoing"],
              case .array(let items)? = document["violations"] else { throw fail("backend, keepGoing or violations") }
        var log = HuntLog(backend: backend, from: UInt64(try integer(document["from"], "from")), keepGoing: keepGoing)
        if document["planned"] != nil { log.planned = try integer(document["planned"], "planned") }
        if case .string(let text)? = document["shard"] {
            guard let shard = Shard(parsing: text) else { throw fail("shard") }
            log.shard = shard
        }
        if case .array(let names)? = document["judging"] {
            log.judging = try names.map { name throws(MergeError) in
                guard case .string(let text) = name else { throw fail("judging") }
                return text
            }
        }
        log.runs = try integer(document["runs"], "runs")
        guard case .array(let undecided)? = document["undecided"] else { throw fail("undecided") }
        log.undecided = try undecided.enumerated().map { index, seed throws(MergeError) in UInt64(try integer(seed, "undecided[\(index)]")) }
        for (index, item) in items.enumerated() {
            guard case .string(let file)? = item["scenario"], case .array(let kinds)? = item["broken"], case .string(let message)? = item["message"] else {
                throw fail("violations[\(index)]")
            }
            let names = try kinds.map { kind throws(MergeError) in
                guard case .string(let text) = kind else { throw fail("violations[\(index)].broken") }
                return text
            }
            var shrunk: String?
            if case .string(let text)? = item["shrunk"] { shrunk = text }
            log.violations.append(HuntViolation(seed: UInt64(try integer(item["seed"], "violations[\(index)].seed")), kinds: names, message: message,
                                                file: file, shrunk: shrunk))
        }
        return log
    }

    init(backend: String, from: UInt64, keepGoing: Bool) {
        self.backend = backend
        self.from = from
        self.keepGoing = keepGoing
    }
}
