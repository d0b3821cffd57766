import Glibc

/// The system calls shared by listeners and connections: every socket is non-blocking and
/// close-on-exec, and every send passes `MSG_NOSIGNAL`, so a peer that vanished makes a write fail
/// with `EPIPE` instead of killing the process with SIGPIPE.
enum Socket {
    static func tcp() throws(SystemError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .last("socket") }
        return fd
    }

    /// For an accepted socket, which inherits neither flag from its listener (`accept4`, which sets
    /// both at once, needs `_GNU_SOURCE`, which Swift's Glibc module is built without).
    static func makeNonBlocking(_ fd: Int32) throws(SystemError) {
        guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw .last("fcntl FD_CLOEXEC") }
        guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else { throw .last("fcntl O_NONBLOCK") }
    }

    static func enable(_ option: Int32, level: Int32, on fd: Int32, _ name: String) throws(SystemError) {
        var one: Int32 = 1
        guard setsockopt(fd, level, option, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else { throw .last("setsockopt \(name)") }
    }

    /// Small messages leave at once instead of waiting for an acknowledgement (Nagle), which would
    /// add tens of milliseconds to a consensus round; the loop already batches a turn's writes.
    static func disableNagle(_ fd: Int32) throws(SystemError) {
        try enable(TCP_NODELAY, level: Int32(IPPROTO_TCP), on: fd, "TCP_NODELAY")
    }

    /// The error a failed non-blocking connect left on the socket, 0 when it connected.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }

    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    }
}
