import ConsensusCore
@testable import Server
import Testing

/// The routing rules without sockets: a node (n1) with client connections 1 and 2 and peers n2, n3.
@Suite struct RequestRouterTests {
    static let start = Instant(microseconds: 1_000_000)
    static let timeout = TimeSpan.seconds(2)
    static let retry = TimeSpan.milliseconds(20)

    static func router() -> RequestRouter {
        RequestRouter(node: NodeID(1), timeout: timeout, retryInterval: retry, maximumHops: 2)
    }

    static func request(_ sequence: UInt64) -> ClientRequest {
        ClientRequest(client: ClientID(9), sequence: sequence, command: .put(key: "k", value: "v"))
    }

    static func reply(_ sequence: UInt64, _ status: ReplyStatus) -> ClientReply {
        ClientReply(client: ClientID(9), sequence: sequence, status: status)
    }

    static let ok = ReplyStatus.ok(.done)

    @Test func anAnswerGoesToTheConnectionThatAskedOnce() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        #expect(router.route(Self.reply(1, Self.ok), from: NodeID(1), at: Self.start) == [.deliver(Self.reply(1, Self.ok), connection: 1)])
        #expect(router.route(Self.reply(1, Self.ok), from: NodeID(1), at: Self.start) == [], "a second copy finds no one waiting")
        #expect(router.count == 0)
    }

    @Test func aHintForwardsTheRequestAndTheLeadersAnswerComesBack() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        let refusal = Self.reply(1, .notLeader(hint: NodeID(3)))
        #expect(router.route(refusal, from: NodeID(1), at: Self.start) == [.submit(Self.request(1), to: NodeID(3))])
        #expect(router.route(Self.reply(1, Self.ok), from: NodeID(3), at: Self.start) == [.deliver(Self.reply(1, Self.ok), connection: 1)])
    }

    @Test func withoutALeaderTheNodeRetriesAndAnswersTheRefusalAtTheDeadline() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        let refusal = Self.reply(1, .notLeader(hint: nil))
        #expect(router.route(refusal, from: NodeID(1), at: Self.start) == [])
        #expect(router.due(at: Self.start + Self.retry - .microseconds(1)) == [])
        #expect(router.due(at: Self.start + Self.retry) == [.submit(Self.request(1), to: NodeID(1))])
        #expect(router.route(refusal, from: NodeID(1), at: Self.start + Self.retry) == [])
        #expect(router.due(at: Self.start + Self.timeout) == [.deliver(refusal, connection: 1)],
                "the client hears the mapping's no-leader error within the timeout, never silence")
        #expect(router.count == 0)
    }

    @Test func aRequestLostWithTheLeaderIsRetriedAndOneNeverAnsweredTimesOut() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        _ = router.route(Self.reply(1, .notLeader(hint: NodeID(2))), from: NodeID(1), at: Self.start)
        router.lost(NodeID(2), at: Self.start)
        #expect(router.due(at: Self.start + Self.retry) == [.submit(Self.request(1), to: NodeID(1))], "retried under the same number")
        #expect(router.route(Self.reply(1, .notLeader(hint: NodeID(3))), from: NodeID(1), at: Self.start + Self.retry)
                == [.submit(Self.request(1), to: NodeID(3))])
        #expect(router.due(at: Self.start + Self.timeout) == [.abandon(.init(ClientID(9), 1), connection: 1)],
                "in a leader's hands at the deadline: the outcome is unknown")
    }

    @Test func staleHintsStopBouncingAfterTheHopLimit() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        #expect(router.route(Self.reply(1, .notLeader(hint: NodeID(2))), from: NodeID(1), at: Self.start) == [.submit(Self.request(1), to: NodeID(2))])
        #expect(router.route(Self.reply(1, .notLeader(hint: NodeID(3))), from: NodeID(2), at: Self.start) == [.submit(Self.request(1), to: NodeID(3))])
        #expect(router.route(Self.reply(1, .notLeader(hint: NodeID(2))), from: NodeID(3), at: Self.start) == [], "hops spent: wait and retry")
        #expect(router.due(at: Self.start + Self.retry) == [.submit(Self.request(1), to: NodeID(1))])
    }

    @Test func aForwardedRequestsAnswerGoesBackToThePeerRefusalsIncluded() {
        var router = Self.router()
        router.accept(Self.request(1), peer: NodeID(2), at: Self.start)
        let refusal = Self.reply(1, .notLeader(hint: NodeID(3)))
        #expect(router.route(refusal, from: NodeID(1), at: Self.start) == [.answer(refusal, peer: NodeID(2))],
                "the node that took the request from its client decides where it goes next")
        #expect(router.count == 0)
    }

    @Test func aCopyOnAnotherConnectionGetsTheSameAnswer() {
        var router = Self.router()
        router.accept(Self.request(1), connection: 1, at: Self.start)
        router.accept(Self.request(1), connection: 2, at: Self.start + .seconds(1))
        #expect(router.route(Self.reply(1, Self.ok), from: NodeID(1), at: Self.start)
                == [.deliver(Self.reply(1, Self.ok), connection: 1), .deliver(Self.reply(1, Self.ok), connection: 2)])
    }
}
