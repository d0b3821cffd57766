import Sharding

/// Where a fault step of a sharded scenario acts: one server group, or the metaserver.
public enum GroupScope: Hashable, Sendable, CustomStringConvertible {
    case group(GroupID)
    case metaserver

    public var description: String {
        switch self {
        case .group(let id): id.description
        case .metaserver: "meta"
        }
    }
}
