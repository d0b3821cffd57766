import CEpoll

/// What a descriptor's owner does when epoll reports on it. Called on the loop thread only.
public protocol IOHandler: AnyObject {
    /// The descriptor is ready: read or write until the call would block, or learn it failed.
    func handle(_ events: IOEvents)
    /// The loop is shutting down while the descriptor is still registered: deregister and close it.
    func loopIsShuttingDown()
}

/// What epoll reported about a descriptor; the bits are epoll's own, so no translation happens on
/// the hot path. Hang-up and error are reported whatever the interest.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Data to read, or the end of the stream (a read returns 0) or an error (a read fails).
    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer shut down its side: reads drain what is left, then return 0.
    public static let readHangUp = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    /// Both directions are shut.
    public static let hangUp = IOEvents(rawValue: EPOLLHUP.rawValue)
    /// A pending error (`SO_ERROR`), e.g. a refused connect.
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// Which readiness a handler wants to hear of.
public struct IOInterest: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let readable = IOInterest(rawValue: 1)
    /// Ask only while there is something to write: the loop is level-triggered, so an idle socket
    /// with write interest would wake it at every turn.
    public static let writable = IOInterest(rawValue: 2)

    var epollEvents: UInt32 {
        var bits: UInt32 = 0
        if contains(.readable) { bits |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if contains(.writable) { bits |= EPOLLOUT.rawValue }
        return bits
    }
}
