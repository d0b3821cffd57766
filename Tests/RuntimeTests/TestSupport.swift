import ConsensusCore
import Foundation
import Glibc
import Runtime
import Testing

/// Values appended from the loop thread and read from the test: the test's only shared state.
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Value] = []

    func append(_ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        recorded.append(value)
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. Every wait in
/// these tests goes through here, so a broken transport fails a test instead of hanging the suite.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// A loop for the duration of `body`, shut down (thread joined) however `body` ends.
func withEventLoop<T>(_ body: (EventLoop) async throws -> T) async throws -> T {
    let loop = try EventLoop()
    defer { loop.shutdown() }
    return try await body(loop)
}

/// A blocking socket the test drives by hand: a stray process, a peer that never reads, a peer
/// that speaks the handshake wrongly. Every receive times out, so no test can hang on one.
final class RawPeer: @unchecked Sendable {
    let fd: Int32

    /// Connects to `port` on 127.0.0.1.
    init(connectingTo port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawPeerError.system("socket", errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw RawPeerError.system("connect", error)
        }
    }

    /// Accepts one connection from a listening raw socket (within 5 s).
    init(acceptingFrom listener: RawListener) throws {
        fd = accept(listener.fd, nil, nil)
        guard fd >= 0 else { throw RawPeerError.system("accept", errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard result > 0 else { throw RawPeerError.system("send", errno) }
            sent += result
        }
    }

    /// Exactly `count` bytes, or an error on end of stream or after the 5 s timeout.
    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let result = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, count - received, 0) }
            guard result > 0 else { throw result == 0 ? RawPeerError.endOfStream : RawPeerError.system("recv", errno) }
            received += result
        }
        return bytes
    }

    /// Whether the other side closed: the next receive finds the end of the stream (or a reset).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let result = recv(fd, &byte, 1, 0)
            if result == 0 { return true }
            if result < 0 { return errno == ECONNRESET }
        }
    }

    deinit { close(fd) }
}

/// A blocking listening socket on 127.0.0.1 with a kernel-chosen port.
final class RawListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            let error = errno
            close(fd)
            throw RawPeerError.system("bind", error)
        }
        port = UInt16(bigEndian: address.sin_port)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }
}

enum RawPeerError: Error {
    case system(String, Int32)
    case endOfStream
}
