import Foundation
import Glibc
import Load
import Runtime

/// A TCP server on a loopback port that answers each request it receives with the next of its
/// canned replies, whatever the request: a target that sends exactly the bytes a test wants.
/// After a reply that closes the connection, the client's next connection gets the replies that
/// follow. Stops after the last reply.
final class CannedServer: @unchecked Sendable {
    enum Reply {
        case send([UInt8])
        /// Sends the bytes, then closes the connection.
        case sendAndClose([UInt8])
        /// Closes the connection without a word.
        case close
    }

    let address: SocketAddress
    private let listener: Int32
    private let finished = DispatchSemaphore(value: 0)

    init(replies: [Reply]) throws {
        address = .loopback(port: try LoopbackPorts.free(1)[0])
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSocketAddress({ bind(listener, $0, $1) }) == 0, listen(listener, 8) == 0 else {
            close(listener)
            throw SystemError("listen on \(address)", errno: errno)
        }
        let server = listener, finished = self.finished
        Thread {
            var pending = replies[...]
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while !pending.isEmpty {
                let connection = accept(server, nil, nil)
                guard connection >= 0 else { break }
                while let reply = pending.first {
                    guard recv(connection, &buffer, buffer.count, 0) > 0 else { break }
                    pending = pending.dropFirst()
                    switch reply {
                    case .send(let bytes), .sendAndClose(let bytes):
                        _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    case .close: break
                    }
                    if case .send = reply { continue }
                    break
                }
                close(connection)
            }
            finished.signal()
        }.start()
    }

    /// Waits (a few seconds at most: a failing test may leave replies unasked) until every reply
    /// is given, then closes the listener.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = finished.wait(timeout: .now() + 5)
        close(listener)
    }
}
