import ConsensusCore
import Testing

@Suite struct JSONTests {
    @Test func parsesDocumentsKeepingMemberOrder() throws {
        let value = try JSONValue(parsing: #"{"b": 1, "a": [true, null, "x\u00e9\n"], "c": -2.5e1}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(value["a"] == .array([.bool(true), .null, .string("xé\n")]))
        #expect(value["c"] == .number(-25))
        #expect(value.serialized == #"{"b":1,"a":[true,null,"xé\n"],"c":-25}"#)
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, 1, 9),
        ("{\n  \"a\": tru\n}", 2, 8),
        (#"{"a": 1, "a": 2}"#, 1, 10),
        (#"[1, 2"#, 1, 6),
        (#"{"a": 01}"#, 1, 7),
        (#""\x""#, 1, 3),
        ("", 1, 1),
    ])
    func rejectsMalformedJSONWithLineAndColumn(text: String, line: Int, column: Int) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: text) }
        do { _ = try JSONValue(parsing: text) } catch {
            #expect(error.line == line)
            #expect(error.column == column)
        }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONValue(parsing: #""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: #""\ud83d""#) }
    }
}

@Suite struct TimeTests {
    @Test func durationsNeedUnits() {
        #expect(TimeSpan(parsing: "150ms") == .milliseconds(150))
        #expect(TimeSpan(parsing: "10s") == .seconds(10))
        #expect(TimeSpan(parsing: "250us") == .microseconds(250))
        #expect(TimeSpan(parsing: "1.5s") == .milliseconds(1_500))
        #expect(TimeSpan(parsing: "2m") == .seconds(120))
        #expect(TimeSpan(parsing: "150") == nil)
        #expect(TimeSpan(parsing: "ms") == nil)
        #expect(TimeSpan(parsing: "-5ms") == nil)
        #expect(TimeSpan(parsing: "1e3ms") == nil)
        #expect(TimeSpan(parsing: "9999999999999999999s") == nil)
        #expect(TimeSpan.milliseconds(1_500).description == "1500ms")
        #expect(TimeSpan.seconds(2).description == "2s")
    }


    /// Spans past 64 bits of microseconds used to trap in the conversion; spans past a run's
    /// limit overflowed later, in the simulator.
    @Test func boundedParsingSaysWhyAndNeverTraps() throws {
        func refusal(_ text: String) -> TimeSpanError.Reason? {
            do { _ = try TimeSpan.parse(bounded: text); return nil } catch { return error.reason }
        }
        #expect(refusal("9999999999999999999s") == .tooLong)
        #expect(refusal("1000000000s") == .tooLong)
        #expect(refusal("360.001m") == .tooLong)
        #expect(refusal("1e9s") == .malformed)
        #expect(refusal("\u{0663}s") == .malformed)
        #expect(try TimeSpan.parse(bounded: "360m") == TimeSpan.longestRun)
    }
}

@Suite struct RandomTests {
    @Test func sameSeedSameStreamDifferentLabelDifferentStream() {
        var a = DeterministicRandom(seed: 42, label: "network"), b = DeterministicRandom(seed: 42, label: "network")
        var c = DeterministicRandom(seed: 42, label: "workload")
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }

    /// The generator's output is part of every report's bytes: it must not change silently.
    @Test func streamIsStableAcrossVersions() {
        var random = DeterministicRandom(seed: 1)
        #expect(random.next() == 12_966_619_160_104_079_557)
    }

    @Test func uniformIsUnbiasedAndInRange() {
        var random = DeterministicRandom(seed: 7)
        var counts = Array(repeating: 0, count: 6)
        for _ in 0..<60_000 {
            let value = random.uniform(1...6)
            #expect((1...6).contains(value))
            counts[value - 1] += 1
        }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 400 }, "\(counts)")
        #expect(random.chance(0) == false)
        #expect(random.chance(1) == true)
    }
}

@Suite struct BinaryCodableTests {
    @Test func requestsRoundTripAndTruncationIsAnError() throws {
        let requests = [
            ClientRequest(client: ClientID(3), sequence: 9, command: .cas(key: "k", expected: nil, value: "v")),
            ClientRequest(client: ClientID(4), sequence: 1, command: .append(key: "ключ", value: "ü")),
            ClientRequest(client: ClientID(5), sequence: 2, command: .get(key: "")),
        ]
        var writer = ByteWriter()
        writer.write(requests)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readArray(of: ClientRequest.self) == requests)
        #expect(reader.isAtEnd)
        var truncated = ByteReader(Array(writer.bytes.dropLast()))
        #expect(throws: BinaryDecodingError.self) { try truncated.readArray(of: ClientRequest.self) }
    }
}
