import Foundation
@testable import Load
import Testing

@Suite struct EtcdGatewayTests {
    static func text(_ request: EtcdGateway.Request) -> String { String(decoding: request.body, as: UTF8.self) }

    /// The bodies etcd's documentation shows (keys and values base64, revisions as strings),
    /// byte for byte: what was sent to record the fixtures.
    @Test func requests() {
        #expect(EtcdGateway.put(key: "key:1", value: "value").path == "/v3/kv/put")
        #expect(Self.text(EtcdGateway.put(key: "key:1", value: "value")) == #"{"key":"a2V5OjE=","value":"dmFsdWU="}"#)
        #expect(Self.text(EtcdGateway.range(key: "key:1", serializable: false)) == #"{"key":"a2V5OjE="}"#)
        #expect(Self.text(EtcdGateway.range(key: "key:1", serializable: true)) == #"{"key":"a2V5OjE=","serializable":true}"#)
        #expect(EtcdGateway.delete(key: "key:1").path == "/v3/kv/deleterange")
        #expect(Self.text(EtcdGateway.delete(key: "key:1")) == #"{"key":"a2V5OjE="}"#)
        let cas = EtcdGateway.compareValueAndPut(key: "key:1", expected: "value", value: "new")
        #expect(cas.path == "/v3/kv/txn")
        #expect(Self.text(cas) == #"{"compare":[{"key":"a2V5OjE=","result":"EQUAL","target":"VALUE","value":"dmFsdWU="}],"success":[{"request_put":{"key":"a2V5OjE=","value":"bmV3"}}]}"#)
        let guarded = EtcdGateway.compareRevisionAndPut(key: "key:1", modRevision: 7, value: Array("valuemore".utf8))
        #expect(Self.text(guarded) == #"{"compare":[{"key":"a2V5OjE=","result":"EQUAL","target":"MOD","mod_revision":"7"}],"success":[{"request_put":{"key":"a2V5OjE=","value":"dmFsdWVtb3Jl"}}]}"#)
    }

    /// What the external backend asks of each member: its status, and its whole copy of the data.
    /// Bodies recorded from etcd 3.4.23.
    @Test func statusAndWholeRange() throws {
        #expect(EtcdGateway.status().path == "/v3/maintenance/status" && Self.text(EtcdGateway.status()) == "{}")
        #expect(Self.text(EtcdGateway.rangeAll()) == #"{"key":"AA==","range_end":"AA==","serializable":true}"#)
        let leader = #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"13668033151171901709","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4","dbSizeInUse":"20480"}"#
        #expect(try EtcdGateway.status(Array(leader.utf8)) == .init(isLeader: true, term: 2))
        let follower = leader.replacingOccurrences(of: #""leader":"13668033151171901709""#, with: #""leader":"42""#)
        #expect(try EtcdGateway.status(Array(follower.utf8)) == .init(isLeader: false, term: 2))
        let range = #"{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"},"kvs":[{"key":"azE=","create_revision":"2","mod_revision":"2","version":"1","value":"dmE="},{"key":"azI=","create_revision":"3","mod_revision":"3","version":"1"}],"count":"2"}"#
        #expect(try EtcdGateway.entries(Array(range.utf8)) == ["k1": "va", "k2": ""])
        #expect(try EtcdGateway.entries(Array(EtcdFixtures.rangeMissBody.utf8)) == [:])
    }

    @Test func requestsAreJSON() throws {
        for request in [EtcdGateway.put(key: "k", value: "v"), EtcdGateway.range(key: "k", serializable: true),
                        EtcdGateway.compareValueAndPut(key: "k", expected: "a", value: "b")] {
            #expect(try JSONSerialization.jsonObject(with: Data(request.body)) is [String: Any])
        }
    }

    @Test func recordedResponses() throws {
        try EtcdGateway.acknowledgement(Array(EtcdFixtures.putBody.utf8))
        try EtcdGateway.acknowledgement(Array(EtcdFixtures.deleteBody.utf8))
        #expect(try EtcdGateway.entry(Array(EtcdFixtures.rangeHitBody.utf8)) == .init(value: Array("value".utf8), modRevision: 7))
        #expect(try EtcdGateway.entry(Array(EtcdFixtures.rangeMissBody.utf8)) == .init(value: nil, modRevision: 0))
        #expect(try EtcdGateway.succeeded(Array(EtcdFixtures.txnSucceededBody.utf8)))
        #expect(try !EtcdGateway.succeeded(Array(EtcdFixtures.txnFailedBody.utf8)))
    }

    /// proto3 JSON leaves an empty value out: the key exists and holds "".
    @Test func anEmptyValueIsLeftOut() throws {
        let body = #"{"header":{"revision":"3"},"kvs":[{"key":"aw==","create_revision":"3","mod_revision":"3","version":"1"}],"count":"1"}"#
        #expect(try EtcdGateway.entry(Array(body.utf8)) == .init(value: [], modRevision: 3))
    }

    @Test func errorMessages() throws {
        let parsed = try #require(try HTTPResponseParserTests.parse(EtcdFixtures.noLeader).first)
        #expect(EtcdGateway.errorMessage(parsed.body) == "etcdserver: no leader")
        #expect(EtcdGateway.errorMessage(Array("Not Found\n".utf8)) == "Not Found")
    }

    @Test(arguments: [
        "", "null", "[]", "{}", "{\"kvs\": []}", "not json", "{\"header\": 1}",
        #"{"header":{},"kvs":{}}"#, #"{"header":{},"kvs":[1]}"#, #"{"header":{},"kvs":[{"value":"%%%"}]}"#,
        #"{"header":{},"kvs":[{"value":7}]}"#, #"{"header":{},"kvs":[{"mod_revision":"x"}]}"#,
        #"{"header":{},"kvs":[{"mod_revision":7}]}"#, #"{"header":{},"kvs":[{"mod_revision":"99999999999999999999"}]}"#,
    ])
    func malformedRangeResponsesAreErrors(body: String) {
        #expect(throws: EtcdGateway.DecodingError.self) { try EtcdGateway.entry(Array(body.utf8)) }
    }

    @Test func malformedTxnResponsesAreErrors() {
        #expect(throws: EtcdGateway.DecodingError.self) { try EtcdGateway.succeeded(Array(#"{"header":{},"succeeded":"yes"}"#.utf8)) }
        #expect(throws: EtcdGateway.DecodingError.self) { try EtcdGateway.succeeded(Array("{\"succeeded\":true}".utf8)) }
        #expect(throws: EtcdGateway.DecodingError.self) { try EtcdGateway.acknowledgement(Array(EtcdFixtures.putBody.utf8.dropLast())) }
    }
}
