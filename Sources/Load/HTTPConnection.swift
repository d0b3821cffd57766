import ConsensusCore
import Runtime

/// A minimal HTTP/1.1 client on one keep-alive connection: one request at a time, each waiting for
/// its response (a closed loop needs no pipelining). Written over a plain socket rather than
/// URLSession, which FoundationNetworking would bring in with libcurl and a thread pool of its own
/// between the clock and the wire.
package final class HTTPConnection {
    let address: SocketAddress
    let timeout: TimeSpan
    private var stream: TCPStream?
    private var parser = HTTPResponseParser()
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    /// How a request failed: no connection or a broken one (the request may or may not have been
    /// served), or bytes that are no HTTP response. Either way the connection is dropped.
    package enum Failure: Error, Hashable, Sendable {
        case connection(String)
        case malformed(String)
    }

    /// Connects now, so that an address that cannot be reached fails the caller's start.
    package init(address: SocketAddress, timeout: TimeSpan) throws(TCPStream.Failure) {
        self.address = address
        self.timeout = timeout
        stream = try TCPStream(connectingTo: address, timeout: timeout)
    }

    /// Whether the connection is up; a request after a failure connects again.
    var isConnected: Bool { stream != nil }

    /// Sends `POST path` with a JSON body and returns the response, whatever its status.
    package func post(_ path: String, json body: [UInt8]) throws(Failure) -> HTTPResponse {
        let stream: TCPStream
        if let connected = self.stream {
            stream = connected
        } else {
            do throws(TCPStream.Failure) {
                stream = try TCPStream(connectingTo: address, timeout: timeout)
            } catch {
                throw .connection(error.description)
            }
            self.stream = stream
            parser = HTTPResponseParser()
        }
        do {
            let response = try exchange(on: stream, request: Self.request(path: path, host: address.description, body: body))
            if response.closesConnection { self.stream = nil }
            return response
        } catch {
            self.stream = nil
            throw error
        }
    }

    static func request(path: String, host: String, body: [UInt8]) -> [UInt8] {
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    private func exchange(on stream: TCPStream, request: [UInt8]) throws(Failure) -> HTTPResponse {
        do throws(TCPStream.Failure) { try stream.write(request) } catch { throw .connection(error.description) }
        while true {
            do throws(HTTPParseError) {
                if let response = try parser.next() { return response }
            } catch {
                throw .malformed("\(address): \(error.description)")
            }
            let count: Int
            do throws(TCPStream.Failure) { count = try stream.read(into: &buffer) } catch { throw .connection(error.description) }
            guard count > 0 else {
                // The end of a body that runs until the close; anywhere else the connection broke.
                if let response = try? parser.finish() { return response }
                throw .connection("\(address) closed the connection before the response was whole")
            }
            parser.append(buffer[..<count])
        }
    }
}
