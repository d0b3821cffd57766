import ConsensusCore

/// The replies to the commands a connection answers itself, shaped as Redis shapes them, because
/// clients read fields out of some of them (redis-cli reads `version` from `HELLO` and
/// `redis_version` from `INFO`; redis-benchmark reads `CONFIG GET`'s second element).
extension RESPConnection {
    /// `HELLO`'s fields, Redis's seven: a map in RESP3, a flat array in RESP2.
    var helloReply: RESPValue {
        .map([
            RESPMapEntry(.bulk("server"), .bulk(RESP.serverName)),
            RESPMapEntry(.bulk("version"), .bulk(RESP.compatibleRedisVersion)),
            RESPMapEntry(.bulk("proto"), .integer(Int64(version.rawValue))),
            RESPMapEntry(.bulk("id"), .integer(Int64(client.rawValue))),
            RESPMapEntry(.bulk("mode"), .bulk("standalone")),
            RESPMapEntry(.bulk("role"), .bulk("master")),
            RESPMapEntry(.bulk("modules"), .array([])),
        ])
    }

    func localReply(_ command: RESPCommand) -> RESPValue {
        switch command {
        case .ping(nil): .simpleString("PONG")
        case .ping(let message?): .bulk(message)
        case .echo(let message): .bulk(message)
        case .info(let sections): info(sections)
        case .configGet(let patterns): configuration(matching: patterns)
        case .clientGetName: name.map { .bulk($0) } ?? .null
        case .clientID: .integer(Int64(client.rawValue))
        case .clientSetInfo, .select: .ok
        case .commandTable: .array([])
        case .commandCount: .integer(0)
        case .data, .sequenced, .session, .hello, .auth, .clientSetName, .quit:
            preconditionFailure("\(command) is not answered locally")
        }
    }

    /// The `Server` section for no section, `server`, `default`, `all` or `everything`; the
    /// `Consensus` section (when the runtime set `nodeStatus`) for those or `consensus`; nothing
    /// for other sections, as Redis answers an unknown one.
    private func info(_ sections: [String]) -> RESPValue {
        let everything = sections.isEmpty || sections.contains { ["default", "all", "everything"].contains($0) }
        var lines: [String] = []
        if everything || sections.contains("server") {
            lines += ["# Server", "redis_version:\(RESP.compatibleRedisVersion)", "server_name:\(RESP.serverName)",
                      "redis_mode:standalone", "client_id:\(client.rawValue)"]
        }
        if let nodeStatus, everything || sections.contains("consensus") {
            if !lines.isEmpty { lines.append("") }  // Redis separates sections by an empty line
            lines += nodeStatus.infoLines
        }
        return .bulk(lines.map { $0 + "\r\n" }.joined())
    }

    /// The parameters any of `patterns` matches (Redis glob patterns: `*`, `?`), in name order,
    /// each once: a map in RESP3, a flat array in RESP2.
    private func configuration(matching patterns: [String]) -> RESPValue {
        let names = options.configuration.keys.sorted().filter { name in patterns.contains { Glob.matches($0, name) } }
        return .map(names.map { RESPMapEntry(.bulk($0), .bulk(options.configuration[$0]!)) })
    }
}
