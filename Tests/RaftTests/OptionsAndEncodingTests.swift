import ConsensusCore
import Lab
import Raft
import Testing

/// Options as scenario files set them, and the durable encodings storage keeps.
@Suite struct OptionsAndEncodingTests {
    @Test func optionsParseAndDefaults() throws {
        var options = RaftOptions()
        #expect(options.read == .readIndex && options.preVote && options.checkQuorum)
        #expect(options.electionTimeout == .milliseconds(150)...(.milliseconds(300)))
        try options.set("read", to: .string("lease"))
        try options.set("electionTimeout", to: .array([.string("100ms"), .string("200ms")]))
        try options.set("prevote", to: .bool(false))
        try options.set("maxInflight", to: .number(2))
        try options.set("clockDrift", to: .number(0.2))
        #expect(options.snapshotChunk == 65_536)
        try options.set("snapshotChunk", to: .number(64))
        #expect(options.read == .lease && !options.preVote && options.maxInflight == 2 && options.snapshotChunk == 64)
        #expect(options.leaseDuration == .milliseconds(80), "lease = minimum election timeout × (1 − drift)")
    }

    @Test(arguments: [
        ("read", JSONValue.string("fast"), "expected one of"),
        ("maxInflight", .number(0), "at least 1"),
        ("maxUncommitted", .number(0), "at least 1"),
        ("snapshotChunk", .number(0), "snapshotChunk: must be at least 1, found 0"),
        ("snapshotChunk", .number(1.5), "expected an integer"),
        ("electionTimeout", .array([.string("300ms"), .string("150ms")]), "lower ≤ upper"),
        ("heartbeat", .string("50"), "not a duration"),
        ("clockDrift", .number(1.5), "within"),
        ("leaseTime", .string("1s"), "unknown option"),
    ])
    func badOptionsAreRejectedWithAReason(name: String, value: JSONValue, reason: String) {
        var options = RaftOptions()
        #expect {
            try options.set(name, to: value)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    /// A scenario names variants by the options that differ from the defaults.
    @Test func scenarioVariantLabels() throws {
        let text = """
        {"version": 1, "backends": ["raft", {"protocol": "raft", "options": {"read": "lease", "prevote": true}},
                                    {"protocol": "raft", "options": {"prevote": false, "checkQuorum": false}}]}
        """
        let scenario = try ScenarioFile.parse(text, file: "inline.json")[0]
        #expect(scenario.backends.map(\.label) == ["raft", "raft[read=lease]", "raft[prevote=false;checkQuorum=false]"])
        #expect(throws: ScenarioError.self) {
            try ScenarioFile.parse(#"{"version": 1, "backends": [{"protocol": "raft", "options": {"read": 3}}]}"#, file: "bad.json")
        }
    }

    @Test func durableRecordsRoundTrip() throws {
        let entries = [RaftEntry(term: 3, stamp: .zero + .milliseconds(5), request: nil),
                       RaftEntry(term: 4, stamp: .zero + .seconds(2),
                                 request: ClientRequest(client: ClientID(7), sequence: 9, command: .cas(key: "k", expected: nil, value: "v"),
                                                        ackedThrough: 8, established: true))]
        for entry in entries {
            var writer = ByteWriter()
            entry.encode(to: &writer)
            var reader = ByteReader(writer.bytes)
            #expect(try RaftEntry(from: &reader) == entry)
            #expect(reader.isAtEnd)
        }
        for state in [RaftHardState(term: 5, votedFor: NodeID(2)), RaftHardState(term: 0, votedFor: nil)] {
            var writer = ByteWriter()
            state.encode(to: &writer)
            var reader = ByteReader(writer.bytes)
            #expect(try RaftHardState(from: &reader) == state)
        }
        var truncated = ByteReader([1, 2, 3])
        #expect(throws: BinaryDecodingError.self) { try RaftEntry(from: &truncated) }
    }
}
