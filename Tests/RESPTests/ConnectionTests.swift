import ConsensusCore
import RESP
import Testing

@Suite struct ConnectionTests {
    let minted = RESP.connectionClientID(node: NodeID(1), incarnation: 1, connection: 1)

    func connection(_ options: RESPConnection.Options = RESPConnection.Options()) -> RESPConnection {
        RESPConnection(client: minted, options: options)
    }

    func text(_ connection: inout RESPConnection) -> String {
        String(decoding: connection.takeOutput(), as: UTF8.self)
    }

    /// What redis-benchmark sends when it starts (two pipelined `CONFIG GET`s, whose replies must
    /// be arrays of at least two elements), then a SET and a GET of its default shape.
    @Test func redisBenchmarkHandshakeAndWorkload() {
        var connection = connection()
        #expect(connection.receive(multibulk("CONFIG", "GET", "save") + multibulk("CONFIG", "GET", "appendonly")) == [])
        #expect(text(&connection) == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n")
        let requests = connection.receive(multibulk("SET", "key:__rand_int__", "xxx") + multibulk("GET", "key:__rand_int__"))
        #expect(requests == [
            ClientRequest(client: minted, sequence: 1, command: .put(key: "key:__rand_int__", value: "xxx")),
            ClientRequest(client: minted, sequence: 2, command: .get(key: "key:__rand_int__")),
        ])
        connection.deliver(ClientReply(to: requests[0], .ok(.done)))
        connection.deliver(ClientReply(to: requests[1], .ok(.value("xxx"))))
        #expect(text(&connection) == "+OK\r\n$3\r\nxxx\r\n")
        // PING_INLINE and PING_MBULK.
        _ = connection.receive(bytes("PING\r\n") + multibulk("PING"))
        #expect(text(&connection) == "+PONG\r\n+PONG\r\n")
    }

    /// Replies leave in command order, whatever order the cluster answers in, with the commands
    /// the connection answers itself queued behind those still waiting.
    @Test func repliesKeepCommandOrder() {
        var connection = connection()
        let requests = connection.receive(multibulk("GET", "a") + multibulk("PING") + multibulk("GET", "b") + multibulk("ECHO", "e"))
        #expect(requests.map(\.sequence) == [1, 2])
        #expect(connection.inFlightCount == 2)
        #expect(connection.queuedReplyCount == 4)
        connection.deliver(ClientReply(to: requests[1], .ok(.value("B"))))
        #expect(text(&connection) == "", "the first command is still waiting")
        connection.deliver(ClientReply(to: requests[0], .ok(.value(nil))))
        #expect(text(&connection) == "$-1\r\n+PONG\r\n$1\r\nB\r\n$1\r\ne\r\n")
        #expect(connection.inFlightCount == 0)
        #expect(connection.queuedReplyCount == 0)
        // A late duplicate answer is dropped.
        connection.deliver(ClientReply(to: requests[0], .ok(.value("late"))))
        #expect(text(&connection) == "")
    }

    /// The minted session numbers commands in order, acknowledges through the highest number
    /// below which all are answered, and is established by the first write answered `.ok`.
    @Test func mintedSessionCarriesWatermarkAndEstablished() {
        var connection = connection()
        let first = connection.receive(multibulk("GET", "a") + multibulk("SET", "a", "1") + multibulk("SET", "b", "2"))
        #expect(first.map(\.ackedThrough) == [0, 0, 0])
        #expect(first.map(\.established) == [false, false, false])
        connection.deliver(ClientReply(to: first[2], .ok(.done)))
        let second = connection.receive(multibulk("GET", "a"))
        #expect(second[0].sequence == 4)
        #expect(second[0].ackedThrough == 0, "request 1 is not answered yet")
        #expect(second[0].established, "a write was answered ok")
        connection.deliver(ClientReply(to: first[0], .ok(.value(nil))))
        connection.abandon(client: minted, sequence: first[1].sequence)
        #expect(connection.receive(multibulk("GET", "a"))[0].ackedThrough == 3)
        #expect(text(&connection) == "$-1\r\n-TIMEOUT no answer from the cluster in time; the command may or may not have taken effect\r\n+OK\r\n")
    }

    @Test func aReadAnsweredOkDoesNotEstablishTheSession() {
        var connection = connection()
        let request = connection.receive(multibulk("GET", "a"))[0]
        connection.deliver(ClientReply(to: request, .ok(.value(nil))))
        #expect(connection.receive(multibulk("SET", "a", "1"))[0].established == false)
    }

    /// A client of its own session numbers its commands; a retry under the same number goes out
    /// with the same number, so the store answers it with the first answer.
    @Test func chosenSessionPassesTheClientsNumbersThrough() {
        var connection = connection()
        _ = connection.receive(multibulk("GET", "k"))
        #expect(connection.receive(multibulk("CONLAB.SESSION", "77", "ESTABLISHED")) == [])
        let requests = connection.receive(multibulk("CONLAB.SEQ", "12", "10", "SET", "k", "v", "IFEQ", "old")
                                          + multibulk("CONLAB.SEQ", "12", "10", "SET", "k", "v", "IFEQ", "old"))
        let expected = ClientRequest(client: ClientID(77), sequence: 12, command: .cas(key: "k", expected: "old", value: "v"),
                                     ackedThrough: 10, established: true)
        #expect(requests == [expected, expected])
        #expect(connection.client == ClientID(77))
        // The first command, of the minted session, is still answered first.
        connection.deliver(ClientReply(to: expected, .ok(.casMismatch(current: "new"))))
        #expect(text(&connection) == "")
        connection.deliver(ClientReply(client: minted, sequence: 1, status: .ok(.value("x"))))
        #expect(text(&connection) == "$1\r\nx\r\n+OK\r\n$-1\r\n$-1\r\n")
    }

    @Test func sessionsAndSequencesGoTogether() {
        var connection = connection()
        #expect(connection.receive(multibulk("CONLAB.SEQ", "1", "0", "GET", "k")) == [])
        _ = connection.receive(multibulk("CONLAB.SESSION", "5"))
        #expect(connection.receive(multibulk("GET", "k")) == [])
        let requests = connection.receive(multibulk("CONLAB.SEQ", "1", "0", "SET", "k", "v"))
        #expect(requests.map(\.established) == [false])
        connection.deliver(ClientReply(to: requests[0], .ok(.done)))
        #expect(connection.receive(multibulk("CONLAB.SEQ", "2", "1", "GET", "k"))[0].established)
        #expect(text(&connection) == "-ERR " + RESPCommandError.sequenceWithoutSession.message + "\r\n+OK\r\n-ERR "
                + RESPCommandError.sessionNeedsSequence.message + "\r\n+OK\r\n")
    }

    @Test func helloSwitchesTheProtocolAndAnswersInTheNewOne() {
        var connection = connection()
        _ = connection.receive(multibulk("HELLO", "3"))
        #expect(connection.version == .resp3)
        let id = minted.rawValue
        #expect(text(&connection) == "%7\r\n$6\r\nserver\r\n$6\r\nconlab\r\n$7\r\nversion\r\n$5\r\n8.4.0\r\n$5\r\nproto\r\n:3\r\n"
                + "$2\r\nid\r\n:\(id)\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
        let get = connection.receive(multibulk("GET", "missing"))[0]
        connection.deliver(ClientReply(to: get, .ok(.value(nil))))
        #expect(text(&connection) == "_\r\n")
        _ = connection.receive(multibulk("HELLO", "2", "SETNAME", "bench") + multibulk("CLIENT", "GETNAME"))
        #expect(connection.version == .resp2)
        #expect(text(&connection) == "*14\r\n$6\r\nserver\r\n$6\r\nconlab\r\n$7\r\nversion\r\n$5\r\n8.4.0\r\n$5\r\nproto\r\n:2\r\n"
                + "$2\r\nid\r\n:\(id)\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
                + "$5\r\nbench\r\n")
        _ = connection.receive(multibulk("HELLO", "4"))
        #expect(text(&connection) == "-NOPROTO unsupported protocol version\r\n")
        #expect(connection.version == .resp2)
    }

    /// A reply is encoded in the protocol in force when its command arrived, as Redis, which runs
    /// commands in order, would have.
    @Test func aReplyUsesTheProtocolOfItsCommandsTime() {
        var connection = connection()
        let get = connection.receive(multibulk("GET", "k") + multibulk("HELLO", "3"))[0]
        connection.deliver(ClientReply(to: get, .ok(.value(nil))))
        #expect(text(&connection).hasPrefix("$-1\r\n%7\r\n"))
    }

    @Test func connectCommandsOfRedisCliAndRedisPy() {
        var connection = connection()
        _ = connection.receive(multibulk("COMMAND", "DOCS") + multibulk("HELLO", "2", "AUTH", "default", "any") + multibulk("SELECT", "0")
                               + multibulk("CLIENT", "SETINFO", "LIB-NAME", "redis-py") + multibulk("COMMAND", "COUNT")
                               + multibulk("SELECT", "3"))
        let replies = text(&connection)
        #expect(replies.hasPrefix("*0\r\n*14\r\n$6\r\nserver\r\n"), "HELLO AUTH as the nopass default user, as in Redis without requirepass")
        #expect(replies.hasSuffix("+OK\r\n+OK\r\n:0\r\n-ERR DB index is out of range\r\n"))
        _ = connection.receive(multibulk("INFO", "SERVER"))
        let info = text(&connection)
        #expect(info.hasPrefix("$") && info.contains("\r\nredis_version:8.4.0\r\n"), "redis-cli looks for the version after a newline")
        _ = connection.receive(multibulk("INFO", "keyspace") + multibulk("CONFIG", "GET", "*") + multibulk("CONFIG", "GET", "nothing"))
        #expect(text(&connection) == "$0\r\n\r\n*4\r\n$10\r\nappendonly\r\n$2\r\nno\r\n$4\r\nsave\r\n$0\r\n\r\n*0\r\n")
    }

    /// With `requirepass`, as in Redis: nothing but `AUTH`, `HELLO … AUTH` and `QUIT` before the
    /// password; a wrong one is refused and changes nothing; the right one lets commands through.
    @Test func aPasswordGuardsEveryCommand() {
        var connection = connection(RESPConnection.Options(password: Array("s3cret-s3cret-s3cret".utf8)))
        #expect(connection.receive(multibulk("GET", "k") + multibulk("PING") + multibulk("HELLO", "3")).isEmpty)
        #expect(text(&connection) == "-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n"
                + "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                + "option can be used to authenticate the client and select the RESP protocol version at the same time\r\n")
        _ = connection.receive(multibulk("AUTH", "s3cret-s3cret-s3creT") + multibulk("AUTH", "other", "s3cret-s3cret-s3cret")
                               + multibulk("HELLO", "3", "AUTH", "default", "s3cret") + multibulk("AUTH", "s3cret-s3cret-s3cret-"))
        #expect(text(&connection) == String(repeating: "-WRONGPASS invalid username-password pair or user is disabled.\r\n", count: 4))
        #expect(!connection.isAuthenticated && connection.version == .resp2)
        _ = connection.receive(multibulk("AUTH", "s3cret-s3cret-s3cret") + multibulk("PING"))
        #expect(text(&connection) == "+OK\r\n+PONG\r\n")
        #expect(connection.receive(multibulk("GET", "k")).count == 1)

        var viaHello = self.connection(RESPConnection.Options(password: Array("s3cret-s3cret-s3cret".utf8)))
        _ = viaHello.receive(multibulk("HELLO", "3", "AUTH", "default", "s3cret-s3cret-s3cret"))
        #expect(viaHello.isAuthenticated && viaHello.version == .resp3)
        var quitting = self.connection(RESPConnection.Options(password: Array("s3cret-s3cret-s3cret".utf8)))
        _ = quitting.receive(multibulk("QUIT"))
        #expect(text(&quitting) == "+OK\r\n" && quitting.isFinished)
    }

    /// Without `requirepass`, `AUTH password` is the configuration mistake Redis reports, and the
    /// `default` user takes any password.
    @Test func withoutAPasswordAuthIsAMistake() {
        var connection = connection()
        _ = connection.receive(multibulk("AUTH", "pw") + multibulk("AUTH", "default", "pw") + multibulk("AUTH", "bob", "pw"))
        #expect(text(&connection) == "-ERR AUTH <password> called without any password configured for the default user. "
                + "Are you sure your configuration is correct?\r\n+OK\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    }

    /// `INFO` adds the node's `consensus` section once the runtime set one; `INFO consensus` asks for it alone.
    @Test func infoReportsTheServingNode() {
        var connection = connection()
        connection.nodeStatus = NodeStatus(node: NodeID(2), protocolName: "raft", incarnation: 3,
                                           leadership: Leadership(role: .follower, term: 7, leader: NodeID(1)), commitIndex: 42,
                                           syncs: 5, syncedWrites: 9, syncTurns: 5, steps: 31)
        _ = connection.receive(multibulk("INFO", "consensus"))
        #expect(text(&connection) == "$153\r\n# Consensus\r\nnode:n2\r\nprotocol:raft\r\nincarnation:3\r\nrole:follower\r\nterm:7\r\n"
                + "leader:n1\r\ncommit_index:42\r\nsyncs:5\r\nsynced_writes:9\r\nsync_turns:5\r\nsteps:31\r\n\r\n")
        _ = connection.receive(multibulk("INFO"))
        let all = text(&connection)
        #expect(all.contains("redis_version:8.4.0\r\n") && all.contains("\r\n\r\n# Consensus\r\n"), "sections are separated by an empty line")
    }

    @Test func quitAnswersThenCloses() {
        var connection = connection()
        let requests = connection.receive(multibulk("GET", "k") + multibulk("QUIT") + multibulk("GET", "never"))
        #expect(requests.count == 1, "nothing after QUIT is read")
        #expect(connection.isClosing && !connection.isFinished)
        connection.deliver(ClientReply(to: requests[0], .ok(.value("v"))))
        #expect(connection.isFinished)
        #expect(text(&connection) == "$1\r\nv\r\n+OK\r\n")
        #expect(connection.receive(multibulk("PING")) == [])
    }

    @Test func aProtocolErrorIsAnsweredThenCloses() {
        var connection = connection()
        #expect(connection.receive(multibulk("PING") + bytes("*1\r\n:1\r\n") + multibulk("PING")) == [])
        #expect(text(&connection) == "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n")
        #expect(connection.isFinished)
    }

    @Test func commandErrorsLeaveTheConnectionOpen() {
        var connection = connection(RESPConnection.Options(maximumValueBytes: 3))
        _ = connection.receive(multibulk("SET", "k", "long") + multibulk("NOPE") + multibulk("PING"))
        #expect(text(&connection) == "-ERR value of 4 bytes exceeds the limit of 3 bytes\r\n"
                + "-ERR unknown command 'NOPE', with args beginning with: \r\n+PONG\r\n")
        #expect(!connection.isClosing)
    }

    @Test func inFlightCommandsAreLimited() {
        var connection = connection(RESPConnection.Options(maximumInFlight: 2))
        let requests = connection.receive(multibulk("GET", "a") + multibulk("GET", "b") + multibulk("GET", "c"))
        #expect(requests.count == 2)
        connection.deliver(ClientReply(to: requests[0], .ok(.value(nil))))
        #expect(connection.receive(multibulk("GET", "d")).count == 1, "one slot is free again")
        connection.deliver(ClientReply(to: requests[1], .ok(.value(nil))))
        #expect(text(&connection) == "$-1\r\n$-1\r\n-ERR " + RESPCommandError.tooManyInFlight(limit: 2).message + "\r\n")
        #expect(RESPCommandError.tooManyInFlight(limit: 2).message.contains("2 are waiting"))
    }

    /// When the store expired the connection's own session, every later request would be
    /// refused too: the connection answers what is in flight and closes; a reconnect is a new
    /// session. A chosen session's client renews it itself.
    @Test func anExpiredSessionClosesAMintedConnectionOnly() {
        var connection = connection()
        let requests = connection.receive(multibulk("SET", "a", "1") + multibulk("SET", "b", "2"))
        connection.deliver(ClientReply(to: requests[0], .rejected(.sessionExpired)))
        #expect(connection.isClosing && !connection.isFinished)
        connection.deliver(ClientReply(to: requests[1], .rejected(.sessionExpired)))
        #expect(connection.isFinished)
        #expect(text(&connection).split(separator: "\r\n").filter { $0.hasPrefix("-ERR session expired") }.count == 2)

        var chosen = self.connection()
        _ = chosen.receive(multibulk("CONLAB.SESSION", "9", "ESTABLISHED"))
        let request = chosen.receive(multibulk("CONLAB.SEQ", "3", "2", "GET", "k"))[0]
        chosen.deliver(ClientReply(to: request, .rejected(.sessionExpired)))
        #expect(!chosen.isClosing)
        _ = chosen.receive(multibulk("CONLAB.SESSION", "10"))
        #expect(chosen.receive(multibulk("CONLAB.SEQ", "1", "0", "GET", "k")) == [
            ClientRequest(client: ClientID(10), sequence: 1, command: .get(key: "k")),
        ])
    }

    @Test func connectionIDsAreDistinctAndOutOfTheClientsRange() {
        var seen = Set<ClientID>()
        for node in 1...3 {
            for incarnation: UInt64 in 0...2 {
                for connection: UInt64 in [0, 1, 2, 0xFFFF_FFFF] {
                    let id = RESP.connectionClientID(node: NodeID(node), incarnation: incarnation, connection: connection)
                    #expect(id.rawValue > RESP.maximumSessionClientID)
                    #expect(seen.insert(id).inserted)
                }
            }
        }
    }
}
