import ConsensusCore
@testable import Load
import Testing

/// Whatever a target sends, a client counts an error and carries on: it never traps, and after
/// bytes that leave the stream unreadable it connects again.
@Suite struct BadTargetTests {
    static func send(_ text: String) -> CannedServer.Reply { .send(Array(text.utf8)) }

    @Test func respRepliesThatAreNoAnswer() throws {
        let server = try CannedServer(replies: [
            Self.send("$9223372036854775807\r\n"),            // a bulk length that overflows an Int
            Self.send(String(repeating: "*1\r\n", count: 100)), // arrays nested 100 deep
            Self.send("+OK\r\n"),                              // a simple string answering GET
            Self.send("!garbage\r\n"),
            .close,                                             // the connection closes unanswered
            Self.send("-CLUSTERDOWN no leader: the cluster is electing one\r\n"),
            Self.send("$5\r\nhello\r\n"),
        ])
        defer { server.stop() }
        let connection = try RESPTargetConnection(address: server.address, timeout: .seconds(5))
        let get = Operation(kind: .get, key: "key:1")
        var kinds: [String] = []
        for _ in 0..<6 {
            guard case .failed(let kind, _) = connection.perform(get) else { Issue.record("an answer from bad bytes"); continue }
            kinds.append(kind)
        }
        #expect(kinds == ["connection", "connection", "protocol", "connection", "connection", "CLUSTERDOWN"])
        #expect(connection.perform(get) == .ok(.value("hello")), "the client reconnected and carries on")
    }

    @Test func respRepliesToEachOperation() {
        #expect(RESPTargetConnection.outcome(of: .simple("OK"), to: .put) == .ok(.done))
        #expect(RESPTargetConnection.outcome(of: .bulk(nil), to: .cas) == .ok(.casMismatch))
        #expect(RESPTargetConnection.outcome(of: .integer(0), to: .append) == .ok(.done))
        #expect(RESPTargetConnection.outcome(of: .bulk(nil), to: .get) == .ok(.value(nil)))
        #expect(RESPTargetConnection.outcome(of: .error("TIMEOUT no answer"), to: .put) == .failed(kind: "TIMEOUT", message: "TIMEOUT no answer"))
        #expect(RESPTargetConnection.outcome(of: .bulk(nil), to: .put) == .protocolError("put answered bulk(nil)"))
        #expect(RESPTargetConnection.command(for: Operation(kind: .cas, key: "k", value: "new", expected: "old")) == ["SET", "k", "new", "IFEQ", "old"])
    }

    @Test func etcdResponsesThatAreNoAnswer() throws {
        let truncated = EtcdFixtures.response(EtcdFixtures.rangeHitBody).dropLast(10)
        let server = try CannedServer(replies: [
            Self.send("SSH-2.0-OpenSSH_9.2\r\n\r\n"),
            .sendAndClose(Array(truncated)),                     // half a response, then the end
            .send(EtcdFixtures.noLeader),
            .send(EtcdFixtures.response("<html>not etcd</html>")),
            .send(EtcdFixtures.badRequest),
            .send(EtcdFixtures.rangeHitChunked),
        ])
        defer { server.stop() }
        let connection = try EtcdTargetConnection(address: server.address, timeout: .seconds(5), serializable: false)
        let get = Operation(kind: .get, key: "key:1")
        var failures: [String] = []
        for _ in 0..<5 {
            guard case .failed(let kind, let message) = connection.perform(get) else { Issue.record("an answer from bad bytes"); continue }
            failures.append(kind + (kind.hasPrefix("HTTP") ? ": " + message : ""))
        }
        #expect(failures == ["protocol", "connection", "HTTP 503: etcdserver: no leader", "protocol", "HTTP 400: unexpected EOF"])
        #expect(connection.perform(get) == .ok(.value("value")))
    }

    /// Append on etcd: a range, then a txn guarded by the mod_revision read; a lost race reads again.
    @Test func etcdAppendRetriesALostRace() throws {
        let server = try CannedServer(replies: [
            .send(EtcdFixtures.response(EtcdFixtures.rangeHitBody)), .send(EtcdFixtures.response(EtcdFixtures.txnFailedBody)),
            .send(EtcdFixtures.response(EtcdFixtures.rangeHitBody)), .send(EtcdFixtures.response(EtcdFixtures.txnSucceededBody)),
        ])
        defer { server.stop() }
        let connection = try EtcdTargetConnection(address: server.address, timeout: .seconds(5), serializable: false)
        #expect(connection.perform(Operation(kind: .append, key: "key:1", value: "more")) == .ok(.done))
        #expect(connection.retries == 1)
    }
}
