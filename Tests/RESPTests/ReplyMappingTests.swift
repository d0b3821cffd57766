import ConsensusCore
import RESP
import Testing

@Suite struct ReplyMappingTests {
    func reply(_ status: ReplyStatus, to command: Command) -> RESPValue {
        RESPValue(ClientReply(client: ClientID(7), sequence: 1, status: status), to: command)
    }

    @Test func resultsAreAnsweredAsRedisAnswersThem() {
        #expect(reply(.ok(.value("v")), to: .get(key: "k")) == .bulk("v"))
        #expect(reply(.ok(.value(nil)), to: .get(key: "k")) == .null)
        #expect(reply(.ok(.done), to: .put(key: "k", value: "v")) == .ok)
        #expect(reply(.ok(.done), to: .cas(key: "k", expected: "a", value: "b")) == .ok)
        #expect(reply(.ok(.casMismatch(current: "z")), to: .cas(key: "k", expected: "a", value: "b")) == .null)
        #expect(reply(.ok(.casMismatch(current: nil)), to: .cas(key: "k", expected: "a", value: "b")) == .null)
        // The store does not report DEL's count or APPEND's new length; the integers say so (see
        // `RESPValue.init(_:to:)`).
        #expect(reply(.ok(.done), to: .delete(key: "k")) == .integer(1))
        #expect(reply(.ok(.done), to: .append(key: "k", value: "v")) == .integer(0))
    }

    /// Each refusal's first word tells a client what to do; its text says whether the command
    /// took effect.
    @Test func everyRefusalHasItsKindAndSaysWhatHappened() {
        let cases: [(ReplyStatus, String, String)] = [
            (.notLeader(hint: nil), "CLUSTERDOWN ", "took no effect"),
            (.notLeader(hint: NodeID(2)), "TRYAGAIN ", "n2 leads"),
            (.rejected(.aborted), "ERR aborted", "took no effect"),
            (.rejected(.unavailable), "NOREPLICAS ", "took no effect"),
            (.rejected(.superseded), "ERR superseded", "whether an earlier copy was is unknown"),
            (.rejected(.sessionExpired), "ERR session expired", "client 7"),
        ]
        for (status, kind, words) in cases {
            guard case .error(let text) = reply(status, to: .put(key: "k", value: "v")) else {
                Issue.record("\(status) is not answered with an error")
                continue
            }
            #expect(text.hasPrefix(kind), "\(text)")
            #expect(text.contains(words), "\(text)")
        }
        guard case .error(let text) = RESPValue.timedOut else { Issue.record("timedOut is no error"); return }
        #expect(text.contains("may or may not have taken effect"))
    }
}
