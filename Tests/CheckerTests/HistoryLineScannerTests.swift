import ConsensusCore
import Foundation
import Testing
@testable import Checker

/// The specialised line scanner against the generic JSON parser: on every line, the reader's answer
/// (an operation or an error) is the generic parser's, and the lab's own lines take the fast path.
@Suite struct HistoryLineScannerTests {
    static let full = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1"

    /// The reader's answer for one line, through the scanner (with the generic parser behind it).
    static func scanned(_ line: String) -> Result<HistoryOperation, HistoryError> {
        var scanner = HistoryLineScanner()
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            Result { () throws(HistoryError) in try HistoryReader.parseLine(UnsafeBufferPointer(buffer), number: 3, scanner: &scanner) }
        }
    }

    /// The generic parser's answer alone.
    static func generic(_ line: String) -> Result<HistoryOperation, HistoryError> {
        Result { () throws(HistoryError) in try HistoryReader.parseLine(line, number: 3) }
    }

    /// Whether the scanner itself takes the line, without the generic parser.
    static func takesFastPath(_ line: String) -> Bool {
        var scanner = HistoryLineScanner()
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            scanner.scan(UnsafeBufferPointer(buffer), line: 3) && (try? HistoryReader.operation(from: scanner)) != nil
        }
    }

    static func expectSame(_ line: String, _ context: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(scanned(line) == generic(line), "\(line) \(context())", sourceLocation: sourceLocation)
    }

    @Test func readsEveryFieldOfEveryKindOfLine() throws {
        let lines = [
            #"{"id":7,"client":3,"node":2,"op":"put","key":"k1","value":"v17","invoke_us":1200,"complete_us":1850,"outcome":"ok"}"#,
            #"{"id":8,"client":4,"node":1,"op":"get","key":"k1","value":"v17","invoke_us":1300,"complete_us":1400,"outcome":"ok"}"#,
            #"{"id":8,"client":4,"node":1,"op":"get","key":"k1","value":null,"invoke_us":1300,"complete_us":1400,"outcome":"ok"}"#,
            #"{"id":9,"client":5,"node":1,"op":"cas","key":"k1","expected":"v17","value":"v18","invoke_us":1500,"complete_us":null,"outcome":"indeterminate"}"#,
            #"{"id":10,"client":5,"node":1,"op":"cas","key":"k1","expected":null,"value":"v19","invoke_us":1600,"complete_us":1700,"outcome":"fail","error":"cas-mismatch"}"#,
            #"{"id":11,"client":6,"node":3,"op":"delete","key":"k1","invoke_us":1600,"complete_us":1700,"outcome":"fail"}"#,
            #"{"id":12,"client":6,"node":3,"op":"append","key":"k1","value":"x","invoke_us":0,"complete_us":0,"outcome":"fail","error":"refused"}"#,
            #"{"id":13,"client":6,"node":3,"op":"put","key":"k1","value":"x","invoke_us":999999999999999,"complete_us":999999999999999,"outcome":"ok","error":null}"#,
        ]
        for line in lines {
            #expect(Self.takesFastPath(line), "\(line)")
            #expect(try Self.scanned(line).get() == Self.generic(line).get())
        }
        // The scanner's slots follow the fields' declaration order, as its table of names does.
        #expect(HistoryField.allCases.enumerated().allSatisfy { $0.offset == $0.element.slot })
    }

    @Test func membersInAnyOrderWithSpaceAndUnknownMembers() throws {
        let line = " {\t\"outcome\" : \"ok\" ,\"extra\":[1,-2.5,[true,false,null],\"s\\u0041\"],\"complete_us\":20, \"invoke_us\":10,"
            + "\"value\":\"v\",\"key\":\"k\",\"op\":\"put\",\"node\":1,\"client\":2,\"id\":3,\"more\":{}}\r"
        Self.expectSame(line)
        let withoutObject = line.replacingOccurrences(of: ",\"more\":{}", with: "")
        #expect(Self.takesFastPath(withoutObject))
        Self.expectSame(withoutObject)
        #expect(try Self.scanned(withoutObject).get().command == .put(key: "k", value: "v"))
    }

    @Test func decodesEveryEscape() throws {
        let line = #"{"id":1,"client":1,"node":1,"op":"append","key":"k\u00e9\ud83d\ude00","value":"\"\\\/\b\f\n\r\t\u0001é😀","invoke_us":1,"complete_us":2,"outcome":"ok"}"#
        #expect(Self.takesFastPath(line))
        let operation = try Self.scanned(line).get()
        #expect(operation.command == .append(key: "ké😀", value: "\"\\/\u{8}\u{c}\n\r\t\u{1}é😀"))
        Self.expectSame(line)
        for bad in [#"\x"#, #"\u12"#, #"\ud83d"#, #"\ud83d\u0041"#, #"\ude00"#, "\u{1}", #"\"#] {
            Self.expectSame(#"{"id":1,"client":1,"node":1,"op":"put","key":"k","value":"a"# + bad + #"","invoke_us":1,"complete_us":2,"outcome":"ok"}"#)
        }
    }

    @Test(arguments: ["0", "7", "123456789012345", "1234567890123456", "9007199254740993", "01", "-0", "-1", "1.0", "1.5", "1e3", "1E3", "2e-1", "1.", ".5", "-", "1x", "true", "\"5\"", "[]", "{}"])
    func numbersAsTheGenericParserReadsThem(number: String) {
        Self.expectSame(#"{"id":"# + number + #","client":1,"node":1,"op":"delete","key":"k","invoke_us":1,"complete_us":2,"outcome":"ok"}"#)
        Self.expectSame(#"{"id":1,"client":1,"node":1,"op":"delete","key":"k","invoke_us":1,"complete_us":2,"outcome":"ok","x":"# + number + "}")
    }

    @Test func everyTruncationIsRefusedAsTheGenericParserRefusesIt() {
        let line = #"{"id":10,"client":5,"node":1,"op":"cas","key":"k\n1","expected":null,"value":"v19","invoke_us":1600,"complete_us":1700,"outcome":"fail","error":"cas-mismatch"}"#
        let bytes = Array(line.utf8)
        for length in 0..<bytes.count {
            Self.expectSame(String(decoding: bytes[..<length], as: UTF8.self), "(first \(length) bytes)")
        }
    }

    @Test func duplicateMembersAreRefused() {
        let base = #"{"id":1,"client":1,"node":1,"op":"put","key":"k","value":"v","invoke_us":1,"complete_us":2,"outcome":"ok""#
        for extra in [#","id":1"#, #","value":null"#, #","x":1,"x":2"#, #","\u0069d":1"#, #","error":null,"error":null"#] {
            Self.expectSame(base + extra + "}")
            #expect(throws: HistoryError.self) { try Self.scanned(base + extra + "}").get() }
        }
    }

    /// Lines the lab writes, then the same lines with bytes deleted, inserted, replaced or cut
    /// off: the reader answers each exactly as the generic parser does. 3,000 mutations by
    /// default, 100,000 with CONLAB_FULL=1.
    @Test func fuzzAgainstTheGenericParser() {
        let history = HistoryGenerator.generate(.init(operations: 400, clients: 6, keys: 3, indeterminateFraction: 0.1, refusedFraction: 0.1), seed: 22).operations
            + [append(1000, "a\"b\\c\n\u{1}é", 40, nil), cas(1001, nil, "v6", 50, 60, mismatch: true)]
        let lines = history.map(\.jsonLine)
        for line in lines {
            #expect(Self.takesFastPath(line), "\(line)")
            Self.expectSame(line)
        }
        let alphabet = Array(#"{}[]:,"\ u0123456789.-+eEtrufalsn"#.utf8) + [0x00, 0x09, 0x0D, 0xC3, 0xA9, 0x7F]
        var random = DeterministicRandom(seed: 22, label: "scanner-fuzz")
        for round in 0..<(Self.full ? 100_000 : 3_000) {
            var bytes = Array(lines[random.index(below: lines.count)].utf8)
            for _ in 0..<random.uniform(1...3) {
                let at = random.index(below: bytes.count)
                switch random.index(below: 4) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[random.index(below: alphabet.count)], at: at)
                case 2: bytes[at] = alphabet[random.index(below: alphabet.count)]
                default: bytes.removeSubrange(at...)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            // Lines reach the parser as valid UTF-8 (the reader checks that first).
            guard let line = String(validating: bytes, as: UTF8.self) else { continue }
            Self.expectSame(line, "(round \(round))")
            if Self.scanned(line) != Self.generic(line) { return }
        }
    }

    /// Whole files: a line longer than the reader's chunk, no final newline, and a byte that is not
    /// UTF-8 reported before an earlier bad line, as when the file was decoded whole.
    @Test func filesAreReadInChunks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scanner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("history.jsonl").path
        let history = [put(1, String(repeating: "x", count: 1_500_000), 0, 10), get(2, nil, 20, 30)]
            + HistoryGenerator.generate(.init(operations: 3_000, clients: 4, keys: 2), seed: 3).operations.map { var o = $0; o.id += 10; return o }
        let text = history.map(\.jsonLine).joined(separator: "\n")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        #expect(try HistoryReader.read(path: path) == history)

        var bytes = Array((Self.goodLine + "\n{oops}\n" + Self.goodLine.replacingOccurrences(of: "\"id\":7", with: "\"id\":9") + "\n").utf8)
        let badOffset = bytes.count - 10
        bytes[badOffset] = 0xFF
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(throws: HistoryError(file: path, reason: "not valid UTF-8: byte 0xFF at offset \(badOffset) (line 3)")) {
            try HistoryReader.read(path: path)
        }
    }

    static let goodLine = HistoryReaderTests.good
}
