import RESP
import Testing

@Suite struct ParserTests {
    /// Three commands back to back, in both forms, with a binary argument holding CR, LF and NUL.
    let pipeline: [UInt8] = multibulk("SET", "key:000000000042", "xyz") + bytes("PING\r\n")
        + RESPValue.command([bytes("SET"), bytes("k"), [0x0D, 0x0A, 0x00, 0x24, 0x2A]]).encoded(version: .resp2)
        + bytes("get  \"a b\"\n")
    let expected: [[[UInt8]]] = [args("SET", "key:000000000042", "xyz"), args("PING"),
                                 [bytes("SET"), bytes("k"), [0x0D, 0x0A, 0x00, 0x24, 0x2A]], args("get", "a b")]

    @Test func pipelinedCommandsComeOutInOrder() throws {
        var parser = RESPParser()
        #expect(try parser.parse(pipeline) == expected)
        #expect(parser.bufferedByteCount == 0)
        #expect(try parser.next() == nil)
    }

    /// Every way of cutting the stream in two, and in three, yields the same commands.
    @Test func everySplitPointYieldsTheSameCommands() throws {
        for cut in 0...pipeline.count {
            var parser = RESPParser()
            let commands = try parser.parse(pipeline[..<cut]) + parser.parse(pipeline[cut...])
            #expect(commands == expected, "cut at \(cut)")
        }
        for first in stride(from: 0, through: pipeline.count, by: 3) {
            for second in first...pipeline.count {
                var parser = RESPParser()
                let commands = try parser.parse(pipeline[..<first]) + parser.parse(pipeline[first..<second])
                    + parser.parse(pipeline[second...])
                #expect(commands == expected, "cuts at \(first), \(second)")
            }
        }
    }

    @Test func oneByteAtATimeYieldsTheSameCommands() throws {
        var parser = RESPParser()
        var commands: [[[UInt8]]] = []
        for byte in pipeline { commands += try parser.parse([byte]) }
        #expect(commands == expected)
    }

    @Test func aCommandIsYieldedOnlyWhenItsLastByteArrives() throws {
        let command = multibulk("GET", "k")
        var parser = RESPParser()
        #expect(try parser.parse(command.dropLast()) == [])
        #expect(try parser.parse(command.suffix(1)) == [args("GET", "k")])
    }

    @Test func emptyArgumentsAndEmptyCommandsAsInRedis() throws {
        #expect(try parseAll(multibulk("SET", "k", "")).get() == [args("SET", "k", "")])
        // `*0`, the null array `*-1` and empty inline lines are no commands: nothing to answer.
        #expect(try parseAll(bytes("*0\r\n*-1\r\n\r\n\n   \r\nPING\r\n")).get() == [args("PING")])
    }

    @Test func inlineCommandsSplitAsRedisSplitsThem() throws {
        let cases: [(String, [[UInt8]])] = [
            ("PING\r\n", args("PING")),
            ("PING\n", args("PING")),
            ("  SET\tk   v  \r\n", args("SET", "k", "v")),
            ("SET k \"a b\"\r\n", args("SET", "k", "a b")),
            ("SET k \"\\x41\\n\\t\\\\\\\"\"\r\n", args("SET", "k", "A\n\t\\\"")),
            ("SET k 'it\\'s'\r\n", args("SET", "k", "it's")),
            ("SET k ab\"cd\"\r\n", args("SET", "k", "abcd")),
            ("SET k \"\"\r\n", args("SET", "k", "")),
            ("ECHO a\u{0}ignored\r\n", args("ECHO", "a")),
        ]
        for (line, expected) in cases {
            #expect(try parseAll(bytes(line)).get() == [expected], "\(line.debugDescription)")
        }
    }

    @Test func unbalancedQuotesAreAProtocolError() {
        for line in ["SET k \"abc\r\n", "SET k 'abc\r\n", "SET k \"a\"b\r\n", "SET k 'a'b\r\n"] {
            #expect(parseAll(bytes(line)) == .failure(.unbalancedQuotes), "\(line.debugDescription)")
        }
    }

    /// Each class of malformed input has its own error, and the error says what was wrong.
    @Test func malformedInputGivesItsError() {
        let cases: [(String, RESPProtocolError, String)] = [
            ("*x\r\n", .invalidMultibulkLength(line: bytes("x")), "invalid multibulk length: '*x'"),
            ("*\r\n", .invalidMultibulkLength(line: []), "invalid multibulk length: '*'"),
            ("*-2\r\n", .invalidMultibulkLength(line: bytes("-2")), "'*-2'"),
            ("*01\r\n", .invalidMultibulkLength(line: bytes("01")), "'*01'"),
            ("*1\rX", .invalidMultibulkLength(line: bytes("1\rX")), "'*1\\x0dX'"),
            ("*1 \r\n", .invalidMultibulkLength(line: bytes("1 ")), "'*1 '"),
            ("*99999999999999999999\r\n", .invalidMultibulkLength(line: bytes("99999999999999999999")), "multibulk"),
            ("*1\r\n+GET\r\n", .expectedBulk(got: UInt8(ascii: "+")), "expected '$', got '+'"),
            ("*1\r\n\r\n", .expectedBulk(got: 0x0D), "expected '$', got '\\x0d'"),
            ("*1\r\n$-1\r\n", .invalidBulkLength(line: bytes("-1")), "invalid bulk length: '$-1'"),
            ("*1\r\n$abc\r\n", .invalidBulkLength(line: bytes("a")), "invalid bulk length: '$a'"),
            ("*1\r\n$\r\n", .invalidBulkLength(line: []), "invalid bulk length"),
            ("*1\r\n$3\r\nGETX\r\n", .missingCRLFAfterBulk(length: 3), "expected CRLF after a bulk string of 3 bytes"),
            ("*1\r\n$3\r\nGE\r\n\r\n", .missingCRLFAfterBulk(length: 3), "CRLF"),
        ]
        for (input, error, words) in cases {
            #expect(parseAll(bytes(input)) == .failure(error), "\(input.debugDescription)")
            #expect(error.description.hasPrefix("Protocol error: "))
            #expect(error.description.contains(words), "\(error.description)")
        }
    }

    @Test func limitsAreEnforcedWhenTheDeclarationArrives() {
        let limits = RESPLimits(maximumBulkLength: 10, maximumArguments: 3, maximumInlineLength: 8, maximumCommandBytes: 15)
        // The header alone is enough to refuse: nothing of the promised bytes needs to come.
        #expect(parseAll(bytes("*4\r\n"), limits: limits) == .failure(.tooManyArguments(count: 4, limit: 3)))
        #expect(parseAll(bytes("*1\r\n$11\r\n"), limits: limits) == .failure(.bulkTooLong(length: 11, limit: 10)))
        #expect(parseAll(bytes("*2\r\n$10\r\n0123456789\r\n$6\r\n"), limits: limits)
                == .failure(.commandTooLarge(bytes: 16, limit: 15)))
        #expect(parseAll(bytes("*3\r\n$10\r\n0123456789\r\n$5\r\n01234\r\n$0\r\n\r\n"), limits: limits).map(\.count) == .success(1))
        // An inline line is refused once it is longer than the limit, with or without its end.
        #expect(parseAll(bytes("PING 1234"), limits: limits) == .failure(.inlineTooLong(limit: 8)))
        #expect(parseAll(bytes("PING 1234\r\n"), limits: limits) == .failure(.inlineTooLong(limit: 8)))
        #expect(parseAll(bytes("PING 123\r\n"), limits: limits).map(\.count) == .success(1))
        #expect(parseAll(bytes("a b c d\r\n"), limits: limits) == .failure(.tooManyArguments(count: 4, limit: 3)))
        #expect(RESPProtocolError.bulkTooLong(length: 11, limit: 10).description
                == "Protocol error: invalid bulk length: 11 bytes exceed the limit of 10")
    }

    /// A client that declares 8 MiB and sends a few bytes makes the parser hold a few bytes.
    @Test func aDeclaredLengthIsNotAllocatedBeforeItsBytesArrive() throws {
        var parser = RESPParser()
        #expect(try parser.parse(bytes("*2\r\n$3\r\nGET\r\n$8388608\r\nabc")) == [])
        #expect(parser.bufferedByteCount == 3)
        // And a count header that can never be valid is refused without waiting for its CRLF.
        var other = RESPParser()
        #expect(throws: RESPProtocolError.invalidMultibulkLength(line: bytes("123456789012345678901"))) {
            try other.parse(bytes("*123456789012345678901"))
        }
    }

    @Test func afterAnErrorTheParserKeepsRefusing() {
        var parser = RESPParser()
        #expect(throws: RESPProtocolError.expectedBulk(got: UInt8(ascii: "x"))) { try parser.parse(bytes("*1\r\nx")) }
        #expect(throws: RESPProtocolError.expectedBulk(got: UInt8(ascii: "x"))) { try parser.parse(bytes("PING\r\n")) }
        #expect(parser.bufferedByteCount == 1, "bytes after the error are not kept")
    }

    @Test func largeArgumentsSurviveAnyChunking() throws {
        let value = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let input = RESPValue.command([bytes("SET"), bytes("big"), value]).encoded(version: .resp2) + multibulk("GET", "big")
        var parser = RESPParser()
        var commands: [[[UInt8]]] = []
        var offset = 0
        for size in [1, 7, 4096, 65_536, 1, 100_000] where offset < input.count {
            let end = min(input.count, offset + size)
            commands += try parser.parse(input[offset..<end])
            offset = end
        }
        commands += try parser.parse(input[offset...])
        #expect(commands == [[bytes("SET"), bytes("big"), value], args("GET", "big")])
    }
}
