import Foundation

/// etcd's v3 key-value API as its gRPC gateway serves it over HTTP/JSON (etcd 3.4 and later at
/// `/v3/…`): requests to write, responses to read. Pure: no I/O, so every byte is testable.
///
/// The gateway speaks protobuf's JSON mapping: `bytes` fields (keys, values) are base64, 64-bit
/// integers (revisions) are strings, and fields at their default are left out: a missing key has
/// no `kvs`, an empty value no `value`, a failed transaction no `succeeded`.
package enum EtcdGateway {
    package struct Request: Hashable, Sendable {
        package var path: String
        package var body: [UInt8]
    }

    /// What a range of one key found: its value (`nil`: no such key) and the revision that last
    /// changed it (0 for a missing key, which is what a compare on `MOD` sees for it too).
    struct Entry: Hashable, Sendable {
        var value: [UInt8]?
        var modRevision: Int64
    }

    /// A body that is not the response the request asks for.
    package struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        package var description: String
    }

    // MARK: Requests

    static func put(key: String, value: String) -> Request {
        Request(path: "/v3/kv/put", body: object(["\"key\":\(base64(key))", "\"value\":\(base64(value))"]))
    }

    /// A range of one key: linearizable (a read index through the leader) unless `serializable`,
    /// which the member answers from its own state.
    static func range(key: String, serializable: Bool) -> Request {
        Request(path: "/v3/kv/range", body: object(["\"key\":\(base64(key))"] + (serializable ? ["\"serializable\":true"] : [])))
    }

    /// Every key, answered by the member from its own state: its copy of the data, for the
    /// replicas' comparison at the end of a run (`"\0"` to `"\0"` is the whole key space).
    package static func rangeAll() -> Request {
        Request(path: "/v3/kv/range", body: object(["\"key\":\"AA==\"", "\"range_end\":\"AA==\"", "\"serializable\":true"]))
    }

    /// The member's own view of the cluster: its id, the leader it follows, the term.
    package static func status() -> Request { Request(path: "/v3/maintenance/status", body: object([])) }

    static func delete(key: String) -> Request {
        Request(path: "/v3/kv/deleterange", body: object(["\"key\":\(base64(key))"]))
    }

    /// Compare-and-set: a transaction that puts `value` if the key's value is `expected`.
    static func compareValueAndPut(key: String, expected: String, value: String) -> Request {
        guarded(key: key, compare: "\"target\":\"VALUE\",\"value\":\(base64(expected))", value: Array(value.utf8))
    }

    /// A put that takes effect only if nobody changed the key since `modRevision` (0: the key does
    /// not exist): the second half of a read-modify-write.
    static func compareRevisionAndPut(key: String, modRevision: Int64, value: [UInt8]) -> Request {
        guarded(key: key, compare: "\"target\":\"MOD\",\"mod_revision\":\"\(modRevision)\"", value: value)
    }

    private static func guarded(key: String, compare: String, value: some Collection<UInt8>) -> Request {
        let compare = "\"compare\":[{\"key\":\(base64(key)),\"result\":\"EQUAL\",\(compare)}]"
        let success = "\"success\":[{\"request_put\":{\"key\":\(base64(key)),\"value\":\(base64(value))}}]"
        return Request(path: "/v3/kv/txn", body: object([compare, success]))
    }

    /// A JSON object of ready-made members. Base64 and digits need no escaping, so the request is
    /// built as text: byte for byte what etcd's documentation shows, and no encoder on the hot path.
    private static func object(_ members: [String]) -> [UInt8] { Array("{\(members.joined(separator: ","))}".utf8) }

    private static func base64(_ text: String) -> String { base64(Array(text.utf8)) }

    private static func base64(_ bytes: some Collection<UInt8>) -> String { "\"\(Data(bytes).base64EncodedString())\"" }

    // MARK: Responses

    /// A put's or a delete's answer: any response with etcd's `header`.
    static func acknowledgement(_ body: [UInt8]) throws(DecodingError) {
        _ = try response(body)
    }

    /// The one key a range asked for.
    static func entry(_ body: [UInt8]) throws(DecodingError) -> Entry {
        let fields = try response(body)
        guard let kvs = fields["kvs"] else { return Entry(value: nil, modRevision: 0) }
        guard let list = kvs as? [Any] else { throw DecodingError(description: "\"kvs\" is not a list") }
        guard let first = list.first else { return Entry(value: nil, modRevision: 0) }
        guard let kv = first as? [String: Any] else { throw DecodingError(description: "\"kvs\" holds a non-object") }
        let value: [UInt8]
        if let text = kv["value"] {
            guard let text = text as? String, let data = Data(base64Encoded: text) else {
                throw DecodingError(description: "\"value\" is not base64")
            }
            value = Array(data)
        } else {
            value = []
        }
        return Entry(value: value, modRevision: try integer(kv["mod_revision"], field: "mod_revision") ?? 0)
    }

    /// Every key and value a range found (keys and values as UTF-8 text).
    package static func entries(_ body: [UInt8]) throws(DecodingError) -> [String: String] {
        let fields = try response(body)
        guard let kvs = fields["kvs"] else { return [:] }
        guard let list = kvs as? [[String: Any]] else { throw DecodingError(description: "\"kvs\" is not a list of objects") }
        var entries: [String: String] = [:]
        for kv in list {
            guard let key = (kv["key"] as? String).flatMap({ Data(base64Encoded: $0) }) else { throw DecodingError(description: "\"key\" is not base64") }
            let value = (kv["value"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
            entries[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return entries
    }

    /// A member's status: whether it is the leader it reports, and the Raft term.
    package struct Status: Hashable, Sendable {
        package var isLeader: Bool
        package var term: UInt64
    }

    package static func status(_ body: [UInt8]) throws(DecodingError) -> Status {
        let fields = try response(body)
        // Member ids are uint64 (often beyond Int64), written as decimal strings like every 64-bit field.
        func unsigned(_ value: Any?) -> UInt64? { (value as? String).flatMap { UInt64($0) } }
        let header = fields["header"] as? [String: Any]
        guard let member = unsigned(header?["member_id"]) else { throw DecodingError(description: "no \"member_id\" in the header") }
        let leader = unsigned(fields["leader"]) ?? 0
        // The status body spells the term `raftTerm`; every header carries it as `raft_term`.
        return Status(isLeader: leader != 0 && leader == member, term: unsigned(fields["raftTerm"] ?? header?["raft_term"]) ?? 0)
    }

    /// Whether a transaction's comparisons held (and so its success branch ran).
    static func succeeded(_ body: [UInt8]) throws(DecodingError) -> Bool {
        switch try response(body)["succeeded"] {
        case nil: return false
        case let flag as Bool: return flag
        default: throw DecodingError(description: "\"succeeded\" is not a boolean")
        }
    }

    /// What an error response says: the gateway's `{"error", "message", "code"}` (gRPC's status
    /// mapped onto HTTP: `Unavailable`, e.g. "etcdserver: no leader", is 503), or the start of
    /// a body in some other form.
    package static func errorMessage(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
           let message = (object["message"] ?? object["error"]) as? String {
            return message
        }
        return String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func response(_ body: [UInt8]) throws(DecodingError) -> [String: Any] {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(body)) else {
            throw DecodingError(description: "not JSON: \"\(String(decoding: body.prefix(80), as: UTF8.self))\"")
        }
        guard let fields = parsed as? [String: Any], fields["header"] is [String: Any] else {
            throw DecodingError(description: "not an etcd response (no \"header\" object)")
        }
        return fields
    }

    /// An int64 as the gateway writes it: a decimal string.
    private static func integer(_ value: Any?, field: String) throws(DecodingError) -> Int64? {
        guard let value else { return nil }
        guard let text = value as? String, let number = Int64(text) else {
            throw DecodingError(description: "\"\(field)\" is not an int64 string")
        }
        return number
    }
}
