import RESP
import Testing

@Suite struct EncoderTests {
    func wire(_ value: RESPValue, _ version: RESPVersion = .resp2) -> String {
        String(decoding: value.encoded(version: version), as: UTF8.self)
    }

    @Test func eachTypeHasItsWireForm() {
        #expect(wire(.ok) == "+OK\r\n")
        #expect(wire(.error("ERR no")) == "-ERR no\r\n")
        #expect(wire(.integer(0)) == ":0\r\n")
        #expect(wire(.integer(-42)) == ":-42\r\n")
        #expect(wire(.integer(.max)) == ":9223372036854775807\r\n")
        #expect(wire(.integer(.min)) == ":-9223372036854775808\r\n")
        #expect(wire(.bulk("héllo")) == "$6\r\nhéllo\r\n")
        #expect(wire(.bulk([])) == "$0\r\n\r\n")
        #expect(wire(.array([.integer(1), .bulk("a"), .array([])])) == "*3\r\n:1\r\n$1\r\na\r\n*0\r\n")
    }

    @Test func nullsAndMapsDependOnTheProtocolVersion() {
        #expect(wire(.null, .resp2) == "$-1\r\n")
        #expect(wire(.array(nil), .resp2) == "*-1\r\n")
        #expect(wire(.null, .resp3) == "_\r\n")
        #expect(wire(.array(nil), .resp3) == "_\r\n")
        let map = RESPValue.map([RESPMapEntry(.bulk("a"), .integer(1)), RESPMapEntry(.bulk("b"), .null)])
        #expect(wire(map, .resp2) == "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n")
        #expect(wire(map, .resp3) == "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n")
    }

    /// A line reply cannot be split by a client's text: CR and LF become spaces.
    @Test func lineRepliesCannotBreakTheStream() {
        #expect(wire(.error("ERR bad 'x\r\n+OK'")) == "-ERR bad 'x  +OK'\r\n")
        #expect(wire(.simpleString("a\nb")) == "+a b\r\n")
    }

    /// A command encoded as clients send it parses back to itself, whatever its bytes.
    @Test func commandsRoundTripThroughTheParser() throws {
        var random = SeededBytes(seed: 7)
        for _ in 0..<200 {
            let command = (0..<random.below(6) + 1).map { _ in random.bytes(count: random.below(40)) }
            var parser = RESPParser()
            #expect(try parser.parse(RESPValue.command(command).encoded(version: .resp3)) == [command])
        }
    }
}
