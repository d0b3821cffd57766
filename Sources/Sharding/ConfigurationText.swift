/// How a version of the config table is stored as a value of the metaserver's key-value store:
/// one line, the same bytes for the same version on every machine (groups and buckets in order),
/// with the tag of the change that made it, so that a clerk whose write timed out can tell its own
/// version from another clerk's identical one.
///
/// `n=3;by=c1.2;owners=1,1,2,-;groups=1:x,y,z|2:a,b,c` — a server name or tag escapes the
/// separators and `%` as `%XX`.
enum ConfigurationText {
    static func encode(_ version: ShardConfiguration, tag: String) -> String {
        let owners = version.owners.map { $0.map { String($0.rawValue) } ?? "-" }.joined(separator: ",")
        let groups = version.groups.keys.sorted().map { group in
            "\(group.rawValue):" + version.groups[group]!.map(escaped).joined(separator: ",")
        }.joined(separator: "|")
        return "n=\(version.number);by=\(escaped(tag));owners=\(owners);groups=\(groups)"
    }

    static func decode(_ text: String) -> (version: ShardConfiguration, tag: String)? {
        var fields: [Substring: Substring] = [:]
        for field in text.split(separator: ";", omittingEmptySubsequences: false) {
            guard let equals = field.firstIndex(of: "=") else { return nil }
            fields[field[..<equals]] = field[field.index(after: equals)...]
        }
        guard fields.count == 4, let number = fields["n"].flatMap({ Int($0) }), let tag = fields["by"].flatMap(unescaped),
              let ownerList = fields["owners"], let groupList = fields["groups"] else { return nil }
        var owners: [GroupID?] = []
        for owner in ownerList.split(separator: ",") {
            if owner == "-" { owners.append(nil) } else if let id = Int(owner) { owners.append(GroupID(id)) } else { return nil }
        }
        var groups: [GroupID: [String]] = [:]
        for entry in groupList.split(separator: "|") {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let id = Int(parts[0]) else { return nil }
            let servers = parts[1].split(separator: ",").map(unescaped)
            guard servers.allSatisfy({ $0 != nil }) else { return nil }
            groups[GroupID(id)] = servers.map { $0! }
        }
        return (ShardConfiguration(number: number, owners: owners, groups: groups), tag)
    }

    private static let reserved: Set<UInt8> = Set("%;=,|:".utf8)

    static func escaped(_ text: String) -> String {
        text.map { character in
            guard let ascii = character.asciiValue, reserved.contains(ascii) else { return String(character) }
            return "%" + String(ascii, radix: 16, uppercase: true)
        }.joined()
    }

    static func unescaped<S: StringProtocol>(_ text: S) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
