import ConsensusCore
import Glibc
import Runtime

/// The operations as etcd v3 requests through its HTTP/JSON gateway: `put`, `range`,
/// `deleterange`, and `txn` for the two that etcd has no single request for: compare-and-set (a
/// compare on the value guarding a put) and append (below).
package final class EtcdTargetConnection: KeyValueConnection {
    private let http: HTTPConnection
    private let serializable: Bool
    package private(set) var retries = 0

    /// Connects now, so that a target that cannot be reached fails the start of the run.
    /// `serializable` reads from the member's own state rather than through the leader.
    package init(address: SocketAddress, timeout: TimeSpan, serializable: Bool) throws(TCPStream.Failure) {
        http = try HTTPConnection(address: address, timeout: timeout)
        self.serializable = serializable
    }

    /// Whether the connection is up: a request that fails while it is down was never sent.
    package var isConnected: Bool { http.isConnected }

    package func perform(_ operation: Operation) -> OperationOutcome {
        let key = operation.key
        switch operation.kind {
        case .put:
            return exchange(EtcdGateway.put(key: key, value: operation.value)) { body throws(EtcdGateway.DecodingError) in
                try EtcdGateway.acknowledgement(body)
                return .done
            }
        case .get:
            return exchange(EtcdGateway.range(key: key, serializable: serializable)) { body throws(EtcdGateway.DecodingError) in
                .value(try EtcdGateway.entry(body).value.map { String(decoding: $0, as: UTF8.self) })
            }
        case .del:
            return exchange(EtcdGateway.delete(key: key)) { body throws(EtcdGateway.DecodingError) in
                try EtcdGateway.acknowledgement(body)
                return .done
            }
        case .cas:
            // A cas on an absent key compares its revision with 0, which only a missing key has.
            let request = operation.expected.map { EtcdGateway.compareValueAndPut(key: key, expected: $0, value: operation.value) }
                ?? EtcdGateway.compareRevisionAndPut(key: key, modRevision: 0, value: Array(operation.value.utf8))
            return exchange(request) { body throws(EtcdGateway.DecodingError) in try EtcdGateway.succeeded(body) ? .done : .casMismatch }
        case .append:
            return append(operation.value, to: key)
        }
    }

    /// etcd has no append: read the key, then put the longer value in a transaction that holds
    /// only if the key's `mod_revision` is still the one read; a lost race reads again. Each try
    /// costs a range and a txn, each carrying the whole value; tries go on until the run's timeout.
    private func append(_ suffix: String, to key: String) -> OperationOutcome {
        let deadline = MonotonicClock.now() + http.timeout
        while true {
            var entry = EtcdGateway.Entry(value: nil, modRevision: 0)
            let read = exchange(EtcdGateway.range(key: key, serializable: serializable)) { body throws(EtcdGateway.DecodingError) in
                entry = try EtcdGateway.entry(body)
                return .done
            }
            guard read.isOK else { return read }
            let request = EtcdGateway.compareRevisionAndPut(key: key, modRevision: entry.modRevision, value: (entry.value ?? []) + Array(suffix.utf8))
            var applied = false
            let write = exchange(request) { body throws(EtcdGateway.DecodingError) in
                applied = try EtcdGateway.succeeded(body)
                return .done
            }
            guard write.isOK, !applied else { return write }
            guard MonotonicClock.now() < deadline else {
                return .failed(kind: "append contention", message: "\(key) changed between every read and write for \(http.timeout)")
            }
            retries += 1
        }
    }

    /// Posts `request` and reads a 200 response's body with `decode`; any other status is an error
    /// counted by its status code, with etcd's message as the example.
    private func exchange(_ request: EtcdGateway.Request,
                          _ decode: ([UInt8]) throws(EtcdGateway.DecodingError) -> OperationOutcome.Result) -> OperationOutcome {
        let wasConnected = http.isConnected
        let response: HTTPResponse
        do throws(HTTPConnection.Failure) {
            response = try http.post(request.path, json: request.body)
        } catch {
            switch error {
            case .connection(let message):
                if !wasConnected { usleep(reconnectPause) }
                return .connection(message)
            case .malformed(let message):
                return .protocolError(message)
            }
        }
        guard response.status == 200 else {
            return .failed(kind: "HTTP \(response.status)", message: EtcdGateway.errorMessage(response.body))
        }
        do throws(EtcdGateway.DecodingError) {
            return .ok(try decode(response.body))
        } catch {
            return .protocolError("\(request.path): \(error.description)")
        }
    }
}
