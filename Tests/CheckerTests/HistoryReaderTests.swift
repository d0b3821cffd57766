import ConsensusCore
import Testing
@testable import Checker

@Suite struct HistoryReaderTests {
    static let good = #"{"id":7,"client":3,"node":2,"op":"put","key":"k1","value":"v17","invoke_us":1200,"complete_us":1850,"outcome":"ok"}"#

    @Test func readsTheDesignExample() throws {
        let text = """
        {"id":7,"client":3,"node":2,"op":"put","key":"k1","value":"v17","invoke_us":1200,"complete_us":1850,"outcome":"ok"}
        {"id":8,"client":4,"node":1,"op":"get","key":"k1","value":"v17","invoke_us":1300,"complete_us":1400,"outcome":"ok"}

        {"id":9,"client":5,"node":1,"op":"cas","key":"k1","expected":"v17","value":"v18","invoke_us":1500,"complete_us":null,"outcome":"indeterminate","extra":[1,2]}
        {"id":10,"client":5,"node":1,"op":"cas","key":"k1","expected":null,"value":"v19","invoke_us":1600,"complete_us":1700,"outcome":"fail","error":"cas-mismatch"}
        {"id":11,"client":6,"node":3,"op":"delete","key":"k1","invoke_us":1600,"complete_us":1700,"outcome":"fail"}
        """
        let history = try HistoryReader.parse(text)
        #expect(history.map(\.id) == [7, 8, 9, 10, 11])
        #expect(history[0] == HistoryOperation(id: 7, client: ClientID(3), node: NodeID(2), command: .put(key: "k1", value: "v17"),
                                               invoke: Instant(microseconds: 1200), complete: Instant(microseconds: 1850), outcome: .ok(.done)))
        #expect(history[1].outcome == .ok(.value("v17")))
        #expect(history[2].command == .cas(key: "k1", expected: "v17", value: "v18"))
        #expect(history[2].complete == nil && history[2].outcome == .indeterminate)
        #expect(history[3].command == .cas(key: "k1", expected: nil, value: "v19"))
        #expect(history[3].outcome == .fail(.casMismatch))
        // A failure without a reason claims only that nothing happened.
        #expect(history[4].outcome == .fail(.refused))
    }

    @Test func roundTripsWhatJSONLineWrites() throws {
        let history: [HistoryOperation] = [
            put(0, "v0", 0, 10), get(1, "v0", 5, 15), get(2, nil, 6, 16), get(3, nil, 7, nil),
            delete(4, 20, 30), append(5, "a\"b\\c\n\u{1}é", 40, nil), cas(6, nil, "v6", 50, 60),
            cas(7, "v6", "v7", 70, 80, mismatch: true), refused(put(8, "v8", 90, 95)), refused(get(9, nil, 96, 99)),
            cas(10, "v7", "v10", 100, nil),
        ] + HistoryGenerator.generate(.init(operations: 300, clients: 5, keys: 3, indeterminateFraction: 0.1, refusedFraction: 0.1), seed: 5).operations.map {
            var shifted = $0
            shifted.id += 100
            return shifted
        }
        let text = history.map(\.jsonLine).joined(separator: "\n") + "\n"
        #expect(try HistoryReader.parse(text) == history)
    }

    @Test func aMismatchRecordedAsOkIsWrittenAsAFailure() throws {
        // KVStore answers a mismatch with `.ok(.casMismatch)`; the file must not turn it into a cas
        // that took effect, and the checker must judge both forms alike.
        let mismatch = operation(1, .cas(key: "k", expected: "v9", value: "v2"), 20, 30, .ok(.casMismatch(current: "v1")))
        let history = [put(0, "v1", 0, 10), mismatch, get(2, "v1", 40, 50)]
        let reread = try HistoryReader.parse(history.map(\.jsonLine).joined(separator: "\n"))
        #expect(reread[1].outcome == .fail(.casMismatch))
        #expect(try verdict(history) == .linearizable)
        #expect(try verdict(reread) == .linearizable)
        var lying = history
        lying[1].command = .cas(key: "k", expected: "v1", value: "v2")
        #expect(try verdict(lying) == .notLinearizable)
    }

    @Test(arguments: [
        ("{\"id\":1,", "line 2: invalid JSON at column 9: expected a member name"),
        ("[1,2]", "line 2: expected a JSON object, found an array"),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: missing field \"value\""),
        (#"{"id":"8","client":3,"node":2,"op":"get","key":"k1","value":null,"invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: field \"id\" must be an integer, found a string"),
        (#"{"id":8.5,"client":3,"node":2,"op":"get","key":"k1","value":null,"invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: field \"id\" must be an integer, found 8.5"),
        (#"{"id":8,"client":3,"node":2,"op":"incr","key":"k1","invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: unknown op \"incr\""),
        (#"{"id":8,"client":3,"node":2,"op":"get","key":"k1","value":null,"invoke_us":1,"complete_us":2,"outcome":"maybe"}"#, "line 2: unknown outcome \"maybe\""),
        (#"{"id":8,"client":3,"node":2,"op":"get","key":"k1","value":null,"invoke_us":5,"complete_us":2,"outcome":"ok"}"#, "line 2: complete_us (2) is before invoke_us (5)"),
        (#"{"id":7,"client":3,"node":2,"op":"get","key":"k1","value":null,"invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: duplicate id 7 (first on line 1)"),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","value":"v","invoke_us":1,"complete_us":2,"outcome":"indeterminate"}"#, "line 2: an indeterminate operation must have complete_us null"),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","value":"v","invoke_us":1,"complete_us":null,"outcome":"ok"}"#, "line 2: complete_us is null but the outcome is ok"),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","value":"v","invoke_us":1,"complete_us":2,"outcome":"fail","error":"boom"}"#, "line 2: unknown error \"boom\""),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","value":"v","invoke_us":1,"complete_us":2,"outcome":"fail","error":"cas-mismatch"}"#, "line 2: error \"cas-mismatch\" on a put"),
        (#"{"id":8,"client":3,"node":2,"op":"put","key":"k1","value":"v","invoke_us":1,"complete_us":2,"outcome":"ok","error":"refused"}"#, "line 2: error \"refused\" on an operation whose outcome is ok"),
        (#"{"id":8,"client":3,"node":2,"op":"cas","key":"k1","value":"v","invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: missing field \"expected\""),
        (#"{"id":8,"client":3,"node":2,"op":"get","key":7,"value":null,"invoke_us":1,"complete_us":2,"outcome":"ok"}"#, "line 2: field \"key\" must be a string, found a number"),
    ])
    func malformedLineIsNamed(line: String, message: String) {
        do {
            _ = try HistoryReader.parse(Self.good + "\n" + line + "\n")
            Issue.record("accepted \(line)")
        } catch {
            #expect(error.line == 2)
            #expect(error.description.hasPrefix(message), "got: \(error)")
        }
    }

    @Test func blankLinesCountForLineNumbers() {
        do {
            _ = try HistoryReader.parse("\n  \n" + Self.good + "\r\n\n{oops}\n")
            Issue.record("accepted a bad line")
        } catch {
            #expect(error.line == 5)
        }
    }

    @Test func missingFileIsReportedWithItsPath() {
        do {
            _ = try HistoryReader.read(path: "/nonexistent/history.jsonl")
            Issue.record("read a missing file")
        } catch {
            #expect(error.file == "/nonexistent/history.jsonl")
            #expect(error.line == nil)
        }
    }
}
