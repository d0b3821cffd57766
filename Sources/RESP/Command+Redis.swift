import ConsensusCore

extension Command {
    /// The command as a Redis client sends it to a node's front end (`RESP.swift` lists what it
    /// takes): a compare-and-set is Redis 8.4's `SET … IFEQ`, or `SET … NX` against absence.
    public var redisArguments: [String] {
        switch self {
        case .get(let key): ["GET", key]
        case .put(let key, let value): ["SET", key, value]
        case .append(let key, let value): ["APPEND", key, value]
        case .delete(let key): ["DEL", key]
        case .cas(let key, let expected?, let value): ["SET", key, value, "IFEQ", expected]
        case .cas(let key, nil, let value): ["SET", key, value, "NX"]
        }
    }
}
