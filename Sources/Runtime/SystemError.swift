import Glibc

/// A system call that failed: what was being done and the `errno` it left. The runtime reports
/// every operating-system failure as this value and never traps on one, so a node process can log
/// the cause, drop the connection concerned and carry on.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done, e.g. `"connect to 127.0.0.1:7001"`.
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// The failure of the call just made: reads the thread's `errno`, so call it right after the call.
    static func last(_ operation: String) -> SystemError { SystemError(operation, errno: Glibc.errno) }

    /// `"connect to 127.0.0.1:7001: Connection refused (errno 111)"`.
    public var description: String { "\(operation): \(String(cString: strerror(errno))) (errno \(errno))" }
}
