import Runtime

/// What `conlab load` measures: a cluster of ours over the Redis protocol, or etcd over its v3
/// HTTP/JSON gateway, at one or more addresses; clients are spread over them round-robin.
public struct LoadTarget: Hashable, Sendable, CustomStringConvertible {
    public enum System: String, Hashable, Sendable {
        case resp, etcd
    }

    public var system: System
    public var addresses: [SocketAddress]

    public init(system: System, addresses: [SocketAddress]) {
        precondition(!addresses.isEmpty, "a target needs an address")
        self.system = system
        self.addresses = addresses
    }

    /// `resp://127.0.0.1:7001,127.0.0.1:7002` or `etcd://127.0.0.1:2379`: numeric IPv4 addresses
    /// (a client thread resolving names would time the resolver), each with its port.
    public init(parsing text: String) throws(LoadInputError) {
        guard let separator = text.range(of: "://"), let system = System(rawValue: String(text[..<separator.lowerBound])) else {
            throw LoadInputError("--target", "'\(text)' does not start with resp:// or etcd:// (e.g. resp://127.0.0.1:7001,127.0.0.1:7002)")
        }
        var list = text[separator.upperBound...]
        if list.hasSuffix("/") { list = list.dropLast() }
        guard !list.isEmpty else { throw LoadInputError("--target", "'\(text)' names no address") }
        var addresses: [SocketAddress] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let address = SocketAddress(parsing: String(item)) else {
                throw LoadInputError("--target", "'\(item)' is not an IPv4 address with a port, e.g. 127.0.0.1:7001")
            }
            guard address.port != 0 else { throw LoadInputError("--target", "'\(item)': port 0 is no server's port") }
            addresses.append(address)
        }
        self.init(system: system, addresses: addresses)
    }

    /// The address client `index` talks to.
    public func address(ofClient index: Int) -> SocketAddress { addresses[index % addresses.count] }

    public var description: String { "\(system.rawValue)://" + addresses.map(\.description).joined(separator: ",") }
}
