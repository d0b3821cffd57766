import ConsensusCore
@testable import Load
import Testing

@Suite struct HTTPResponseParserTests {
    /// Feeds `bytes` in pieces of `step` bytes and returns every response completed.
    static func parse(_ bytes: [UInt8], step: Int = .max, atEnd: Bool = false) throws(HTTPParseError) -> [HTTPResponse] {
        var parser = HTTPResponseParser()
        var responses: [HTTPResponse] = []
        var offset = 0
        repeat {
            let end = offset + min(step, bytes.count - offset)
            parser.append(bytes[offset..<end])
            offset = end
            while let response = try parser.next() { responses.append(response) }
        } while offset < bytes.count
        if atEnd, let last = try parser.finish() { responses.append(last) }
        return responses
    }

    @Test func aContentLengthResponseOfEtcd() throws {
        let responses = try Self.parse(EtcdFixtures.response(EtcdFixtures.rangeHitBody))
        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response.status == 200 && response.reason == "OK")
        #expect(response.values(of: "content-type") == ["application/json"])
        #expect(response.values(of: "Access-Control-Allow-Headers") == ["accept", "content-type", "authorization"])
        #expect(response.body == Array(EtcdFixtures.rangeHitBody.utf8))
        #expect(!response.closesConnection)
    }

    @Test func aChunkedResponseInEverySplit() throws {
        let bytes = EtcdFixtures.rangeHitChunked
        for step in [1, 2, 7, 64, bytes.count] {
            let responses = try Self.parse(bytes, step: step)
            #expect(responses.map(\.body) == [Array(EtcdFixtures.rangeHitBody.utf8)], "step \(step)")
        }
    }

    @Test func responsesBackToBackOnOneConnection() throws {
        let bytes = EtcdFixtures.response(EtcdFixtures.putBody) + EtcdFixtures.rangeHitChunked + EtcdFixtures.noLeader
        let responses = try Self.parse(bytes, step: 13)
        #expect(responses.map(\.status) == [200, 200, 503])
        #expect(responses[2].body == Array(#"{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}"#.utf8))
    }

    @Test func interimResponsesAreSkippedAndEmptyStatusesHaveNoBody() throws {
        let bytes = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
        let responses = try Self.parse(bytes)
        #expect(responses.map(\.status) == [204, 200])
        #expect(responses.map(\.body) == [[], Array("ok".utf8)])
    }

    @Test func aBodyThatEndsWithTheConnection() throws {
        let bytes = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it".utf8)
        #expect(try Self.parse(bytes).isEmpty, "no response before the end")
        let responses = try Self.parse(bytes, step: 3, atEnd: true)
        #expect(responses.map(\.body) == [Array("all of it".utf8)])
        #expect(responses.first?.closesConnection == true)
    }

    @Test func connectionCloseAndHTTP10KeepAlive() throws {
        let close = try Self.parse(Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(close.first?.closesConnection == true)
        let keep = try Self.parse(Array("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(keep.first?.closesConnection == false)
    }

    /// Every prefix of a valid stream is "not yet" while the connection is open, and an error
    /// (never a response, never a trap) when it ends there.
    @Test func everyTruncationIsIncompleteThenAnError() throws {
        for fixture in [EtcdFixtures.response(EtcdFixtures.txnSucceededBody), EtcdFixtures.rangeHitChunked, EtcdFixtures.badRequest] {
            for length in 1..<fixture.count {
                var parser = HTTPResponseParser()
                parser.append(fixture[..<length])
                #expect(try parser.next() == nil, "prefix of \(length) bytes")
                #expect(throws: HTTPParseError.self, "the connection ends after \(length) bytes") { try parser.finish() }
            }
        }
    }

    @Test(arguments: [
        ("garbage", "SSH-2.0-OpenSSH_9.2\r\n\r\n"),
        ("RESP", "+OK\r\n\r\n"),
        ("HTTP/2 status line", "HTTP/2 200\r\n\r\n"),
        ("two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
        ("header without a colon", "HTTP/1.1 200 OK\r\nContent-Length 3\r\n\r\n"),
        ("folded header", "HTTP/1.1 200 OK\r\nX-A: b\r\n  c\r\nContent-Length: 0\r\n\r\n"),
        ("negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
        ("length beyond Int", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        ("length beyond the limit", "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n"),
        ("conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        ("gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("chunk size beyond Int", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"),
        ("chunk size beyond the limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n"),
        ("chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXY0\r\n\r\n"),
    ])
    func malformedResponsesAreErrors(name: String, text: String) {
        #expect(throws: HTTPParseError.self, "\(name)") { try Self.parse(Array(text.utf8), atEnd: true) }
    }

    @Test func anEndlessHeadIsRefusedAtTheLimit() {
        var parser = HTTPResponseParser()
        parser.append(Array("HTTP/1.1 200 OK\r\n".utf8))
        let line = Array("X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".utf8)
        var refused = false
        for _ in 0..<(HTTPResponseParser.maximumHeadBytes / line.count + 2) {
            parser.append(line)
            do { _ = try parser.next() } catch { refused = true; break }
        }
        #expect(refused)
    }

    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 7)
        let alphabet = Array("HTTP/1.1 200 OK\r\n:;0123456789abcdefContent-LengthTransfer-Encodingchunked ".utf8)
        for _ in 0..<2_000 {
            var parser = HTTPResponseParser()
            let bytes = (0..<Int(random.next() % 200)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            parser.append(Array("HTTP/1.1 200 OK\r\n".utf8) + bytes)
            _ = try? parser.next()
            _ = try? parser.finish()
        }
    }
}
