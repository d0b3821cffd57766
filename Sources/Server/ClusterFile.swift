import ConsensusCore
import Foundation
import Lab
import Runtime
import Sharding

/// Reads and writes cluster files: JSON, version 1, validated as scenario files are (every error
/// names the file, the JSON path and the reason, and unknown fields are refused).
///
///     {
///       "version": 1,
///       "cluster": 4207849484,                        // the cluster's id, 0 ≤ id < 10^15
///       "secretFile": "secret",                       // or "secret": "…"; at least 16 bytes
///       "requirepassFile": "requirepass",             // optional, or "requirepass": "…": clients AUTH
///       "backend": {"protocol": "raft", "options": {"read": "lease"}},   // as in a scenario
///       "requestTimeout": "5s",                       // optional, default 5s
///       "shardGroup": {"group": "g2", "buckets": 16}, // optional: a server group of a sharded store (raft only)
///       "nodes": [
///         {"id": "n1", "peer": "127.0.0.1:7001", "client": 6001, "data": "n1", "pid": 4711},
///         // optional "admin": 8001: where the runner of `conlab run --real` injects faults
///         …
///       ]
///     }
///
/// Nodes are n1, n2, … in order. An address is `"a.b.c.d:port"` or a port on 127.0.0.1. Relative
/// paths (`secretFile`, `data`) are relative to the cluster file's folder. `data` and `pid` are
/// what `conlab cluster up` records; `conlab serve` reads neither (it takes `--data`, and defaults
/// to `data`).
public enum ClusterFile {
    public static let version = 1
    public static let defaultRequestTimeout = TimeSpan.seconds(5)
    /// The fewest secret bytes the peer handshake accepts.
    public static let minimumSecretBytes = 16
    /// Client ids minted for connections have 10 bits for the node (`RESP.connectionClientID`).
    static let maximumNodes = 1023
    /// Cluster ids are integers JSON numbers carry exactly (below 10^15, as every integer field).
    public static let clusterIDs: Range<UInt64> = 0..<1_000_000_000_000_000

    static let topLevelKeys = ["version", "cluster", "secret", "secretFile", "requirepass", "requirepassFile", "backend", "requestTimeout", "nodes",
                               "shardGroup"]
    static let nodeKeys = ["id", "peer", "client", "admin", "data", "pid"]

    public static func load(path: String) throws(ScenarioError) -> ClusterConfiguration {
        let text = try ScenarioFile.text(at: path)
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ScenarioError) -> ClusterConfiguration {
        let root = JSONField(value: try ScenarioFile.document(text, file: file), path: "$", file: file)
        let object = try root.object(allowing: topLevelKeys)
        let version = try object.required("version").int(in: 1...Int.max)
        guard version == Self.version else {
            throw object["version"]!.error("unsupported cluster file version \(version); this conlab reads version \(Self.version)")
        }
        guard let (secret, source) = try secretText(object, inline: "secret", file: "secretFile", folder: folder(of: file)) else {
            throw object.field.error("missing field \"secretFile\" (or \"secret\"): the members' links are authenticated with it")
        }
        let requirepass = try secretText(object, inline: "requirepass", file: "requirepassFile", folder: folder(of: file))
        let backend = try ScenarioFile.servedBackend(try object.required("backend"))
        let timeout = try object["requestTimeout"]?.duration() ?? defaultRequestTimeout
        guard timeout > .zero, timeout < backend.sessions.timeout else {
            throw (object["requestTimeout"] ?? root).error(
                "the request timeout \(timeout) must be longer than zero and shorter than the backend's sessionTimeout "
                    + "\(backend.sessions.timeout): a client may retry that long, and an expired session could apply a retry twice")
        }
        var configuration = ClusterConfiguration(file: file, clusterID: UInt64(try object.required("cluster").int(in: 0...Int(clusterIDs.upperBound - 1))),
                                                 secret: secret, secretSource: source, requirepass: requirepass?.bytes, requirepassSource: requirepass?.source,
                                                 backend: backend, requestTimeout: timeout,
                                                 members: try members(try object.required("nodes"), folder: folder(of: file)))
        if let field = object["shardGroup"] { configuration.shardGroup = try shardGroup(field, backend: backend, at: object["backend"]!) }
        return configuration
    }

    /// `{"group": "g2", "buckets": 16}`: the members serve as server group g2 of a sharded store
    /// whose keys hash into 16 buckets. Only Raft replicates a state machine other than the store.
    static func shardGroup(_ field: JSONField, backend: BackendSpec, at backendField: JSONField) throws(ScenarioError) -> ClusterConfiguration.ShardGroupRole {
        let object = try field.object(allowing: ["group", "buckets"])
        guard backend.kind.name == "raft" else {
            throw backendField.error("a shard group's members replicate its ShardStore with Raft; \(backend.label) replicates only the plain store")
        }
        let group = try object.required("group")
        let text = try group.string()
        guard let id = GroupID(name: text) else { throw group.error("expected a group, \"g1\", \"g2\", …; found \"\(text)\"") }
        return .init(group: id, buckets: try object.required("buckets").int(in: 1...ScenarioLimits.buckets))
    }

    /// A secret given inline (field `inline`) or in a file of its own (field `file`, trimmed of
    /// surrounding white space), at most one of the two, of at least `minimumSecretBytes` bytes;
    /// `nil` when neither is there.
    static func secretText(_ object: JSONObject, inline: String, file: String, folder: String)
        throws(ScenarioError) -> (bytes: [UInt8], source: ClusterConfiguration.SecretSource)? {
        switch (object[inline], object[file]) {
        case (let field?, nil):
            return (try checkedSecret(Array(try field.string().utf8), at: field), .inline)
        case (nil, let field?):
            let path = try field.string()
            let text: String
            do { text = try ScenarioFile.text(at: resolve(path, in: folder)) } catch { throw field.error("\(file) \(path): \(error.reason)") }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return (try checkedSecret(Array(trimmed.utf8), at: field), .file(path))
        case (_?, _?):
            throw object[file]!.error("give \"\(inline)\" or \"\(file)\", not both")
        case (nil, nil):
            return nil
        }
    }

    static func checkedSecret(_ bytes: [UInt8], at field: JSONField) throws(ScenarioError) -> [UInt8] {
        guard bytes.count >= minimumSecretBytes else {
            throw field.error("the secret has \(bytes.count) bytes; at least \(minimumSecretBytes) are needed (32 random bytes recommended)")
        }
        return bytes
    }

    static func members(_ field: JSONField, folder: String) throws(ScenarioError) -> [ClusterConfiguration.Member] {
        let items = try field.array()
        guard (1...maximumNodes).contains(items.count) else { throw field.error("needs 1 to \(maximumNodes) nodes, found \(items.count)") }
        var members: [ClusterConfiguration.Member] = []
        var taken: [SocketAddress: String] = [:]
        for (position, item) in items.enumerated() {
            let object = try item.object(allowing: nodeKeys)
            let idField = try object.required("id")
            let expected = NodeID(position + 1)
            guard try idField.string() == expected.description else {
                throw idField.error("nodes are n1, n2, … in order: expected \"\(expected)\" here")
            }
            var member = ClusterConfiguration.Member(id: expected, peer: try address(try object.required("peer")),
                                                     client: try address(try object.required("client")))
            member.admin = try object["admin"].map { field throws(ScenarioError) in try address(field) }
            let addresses: [(String, SocketAddress?)] = [("peer", member.peer), ("client", member.client), ("admin", member.admin)]
            for (name, address) in addresses {
                guard let address else { continue }
                if let owner = taken[address] { throw object[name]!.error("\(address) is already \(owner)") }
                taken[address] = "\(expected)'s \(name) address"
            }
            member.data = try object["data"].map { data throws(ScenarioError) in resolve(try data.string(), in: folder) }
            member.pid = try object["pid"].map { pid throws(ScenarioError) in Int32(try pid.int(in: 1...Int(Int32.max))) }
            members.append(member)
        }
        return members
    }

    /// `"127.0.0.1:7001"`, or `7001` for that port on 127.0.0.1.
    static func address(_ field: JSONField) throws(ScenarioError) -> SocketAddress {
        if case .number = field.value { return .loopback(port: UInt16(try field.int(in: 1...65_535))) }
        let text = try field.string()
        guard let address = SocketAddress(parsing: text), address.port != 0 else {
            throw field.error("expected \"a.b.c.d:port\" (IPv4, numeric, port 1…65535) or a port number, found \"\(text)\"")
        }
        return address
    }

    // MARK: Writing

    /// The file's text for `configuration`, one node a line.
    public static func text(of configuration: ClusterConfiguration) -> String {
        var lines = ["{", "  \"version\": \(version),", "  \"cluster\": \(configuration.clusterID),"]
        lines.append(secretLine(configuration.secret, configuration.secretSource, inline: "secret", file: "secretFile"))
        if let password = configuration.requirepass, let source = configuration.requirepassSource {
            lines.append(secretLine(password, source, inline: "requirepass", file: "requirepassFile"))
        }
        let options = JSONValue.object(configuration.backend.options.map { ($0.name, $0.value) })
        lines.append("  \"backend\": \(JSONValue.object([("protocol", .string(configuration.backend.kind.name)), ("options", options)]).serialized),")
        lines.append("  \"requestTimeout\": \"\(configuration.requestTimeout)\",")
        if let role = configuration.shardGroup { lines.append("  \"shardGroup\": {\"group\": \"\(role.group)\", \"buckets\": \(role.buckets)},") }
        lines.append("  \"nodes\": [")
        for (index, member) in configuration.members.enumerated() {
            var fields: [(key: String, value: JSONValue)] = [("id", .string(member.id.description)), ("peer", .string(member.peer.description)),
                                                             ("client", .string(member.client.description))]
            if let admin = member.admin { fields.append(("admin", .string(admin.description))) }
            if let data = member.data { fields.append(("data", .string(data))) }
            if let pid = member.pid { fields.append(("pid", .number(Double(pid)))) }
            lines.append("    " + JSONValue.object(fields).serialized + (index == configuration.members.count - 1 ? "" : ","))
        }
        lines += ["  ]", "}", ""]
        return lines.joined(separator: "\n")
    }

    private static func secretLine(_ bytes: [UInt8], _ source: ClusterConfiguration.SecretSource, inline: String, file: String) -> String {
        switch source {
        case .inline: "  \"\(inline)\": \(JSONValue.string(String(decoding: bytes, as: UTF8.self)).serialized),"
        case .file(let path): "  \"\(file)\": \(JSONValue.string(path).serialized),"
        }
    }

    /// Writes `configuration` to its file through a temporary file and a rename, so that a node
    /// starting meanwhile reads the old file or the new one, never half of one.
    public static func write(_ configuration: ClusterConfiguration) throws {
        let temporary = configuration.file + ".tmp"
        try Data(text(of: configuration).utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, configuration.file) == 0 else { throw SystemError("rename \(temporary) to \(configuration.file)", errno: errno) }
    }

    // MARK: Paths

    static func folder(of file: String) -> String { (file as NSString).deletingLastPathComponent }

    static func resolve(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") || folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path)
    }
}
