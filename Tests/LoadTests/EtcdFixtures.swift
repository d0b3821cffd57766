/// Responses of etcd 3.4.23's v3 gateway, byte for byte as it sent them to the requests named
/// (recorded with a raw socket; JSON bodies verbatim), and a few written from its documented
/// format for the cases a healthy single member does not produce (chunking of a short body, a
/// 503 without a leader).
enum EtcdFixtures {
    /// The head etcd's gateway writes before every JSON body, then the body's framing.
    static func head(status: String = "200 OK", framing: String, date: String = "Fri, 04 Dec 2026 08:49:10 GMT") -> String {
        ["HTTP/1.1 \(status)",
         "Access-Control-Allow-Headers: accept, content-type, authorization",
         "Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE",
         "Access-Control-Allow-Origin: *",
         "Content-Type: application/json",
         "Grpc-Metadata-Content-Type: application/grpc",
         "Date: \(date)",
         framing, "", ""].joined(separator: "\r\n")
    }

    static func response(_ body: String, status: String = "200 OK") -> [UInt8] {
        Array((head(status: status, framing: "Content-Length: \(body.utf8.count)") + body).utf8)
    }

    // POST /v3/kv/put {"key":"a2V5OjE=","value":"dmFsdWU="}
    static let putBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"7","raft_term":"2"}}"#
    // POST /v3/kv/range {"key":"a2V5OjE="} after that put
    static let rangeHitBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"7","raft_term":"2"},"kvs":[{"key":"a2V5OjE=","create_revision":"7","mod_revision":"7","version":"1","value":"dmFsdWU="}],"count":"1"}"#
    // POST /v3/kv/range of a key never written: no kvs, no count (both at their default).
    static let rangeMissBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"2","raft_term":"2"}}"#
    // POST /v3/kv/txn comparing the value "value" and putting "new": the compare held.
    static let txnSucceededBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"8","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"8"}}}]}"#
    // The same txn again: the value is "new" now, the compare fails, `succeeded` is left out.
    static let txnFailedBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"8","raft_term":"2"}}"#
    // POST /v3/kv/deleterange {"key":"a2V5OjE="}
    static let deleteBody = #"{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"9","raft_term":"2"},"deleted":"1"}"#
    // POST /v3/kv/range with a truncated JSON body: 400, gRPC InvalidArgument (code 3).
    static let badRequest: [UInt8] = Array(([
        "HTTP/1.1 400 Bad Request",
        "Access-Control-Allow-Headers: accept, content-type, authorization",
        "Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE",
        "Access-Control-Allow-Origin: *",
        "Content-Type: application/json",
        "Date: Fri, 04 Dec 2026 08:49:12 GMT",
        "Content-Length: 62", "", ""].joined(separator: "\r\n") + #"{"error":"unexpected EOF","message":"unexpected EOF","code":3}"#).utf8)
    /// Without a leader the gateway maps gRPC's Unavailable (14) to 503.
    static let noLeader = response(#"{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}"#,
                                   status: "503 Service Unavailable")

    /// `rangeHitBody` as Go's net/http frames a body it did not know the length of in advance
    /// (etcd does so beyond about 2 KiB): chunked, here in three chunks with an extension on one.
    static var rangeHitChunked: [UInt8] {
        let body = Array(rangeHitBody.utf8)
        let pieces = [body[0..<100], body[100..<101], body[101...]]
        var text = Array(head(framing: "Transfer-Encoding: chunked").utf8)
        for (index, piece) in pieces.enumerated() {
            text += Array((String(piece.count, radix: 16) + (index == 1 ? ";ext=1" : "") + "\r\n").utf8) + piece + Array("\r\n".utf8)
        }
        return text + Array("0\r\n\r\n".utf8)
    }
}
