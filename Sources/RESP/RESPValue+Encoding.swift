extension RESPValue {
    /// Appends the value's wire form in `version` to `out`. Simple strings and errors are one line
    /// each, so a CR or LF in them is written as a space (Redis does the same): a message built
    /// from a client's argument cannot break the reply stream.
    public func encode(into out: inout [UInt8], version: RESPVersion) {
        switch self {
        case .simpleString(let text):
            Self.appendLine(type: UInt8(ascii: "+"), text, to: &out)
        case .error(let text):
            Self.appendLine(type: UInt8(ascii: "-"), text, to: &out)
        case .integer(let value):
            Self.appendHeader(type: UInt8(ascii: ":"), value, to: &out)
        case .bulk(nil):
            Self.appendNull(type: ASCII.dollar, to: &out, version: version)
        case .array(nil):
            Self.appendNull(type: ASCII.star, to: &out, version: version)
        case .bulk(let bytes?):
            Self.appendHeader(type: ASCII.dollar, Int64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
            out.append(contentsOf: ASCII.crlf)
        case .array(let elements?):
            Self.appendHeader(type: ASCII.star, Int64(elements.count), to: &out)
            for element in elements { element.encode(into: &out, version: version) }
        case .map(let entries):
            let type = version == .resp3 ? UInt8(ascii: "%") : ASCII.star
            let count = version == .resp3 ? entries.count : 2 * entries.count
            Self.appendHeader(type: type, Int64(count), to: &out)
            for entry in entries {
                entry.key.encode(into: &out, version: version)
                entry.value.encode(into: &out, version: version)
            }
        }
    }

    /// The value's wire form in `version`.
    public func encoded(version: RESPVersion) -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out, version: version)
        return out
    }

    /// A command as clients send it: an array of bulk strings (the same in RESP2 and RESP3).
    public static func command(_ arguments: [[UInt8]]) -> RESPValue {
        .array(arguments.map { .bulk($0) })
    }

    /// RESP2's null of `type` (`$-1`, `*-1`), or RESP3's one null.
    private static func appendNull(type: UInt8, to out: inout [UInt8], version: RESPVersion) {
        switch version {
        case .resp2: out.append(contentsOf: [type, ASCII.minus, UInt8(ascii: "1"), ASCII.cr, ASCII.lf])
        case .resp3: out.append(contentsOf: [UInt8(ascii: "_"), ASCII.cr, ASCII.lf])
        }
    }

    private static func appendHeader(type: UInt8, _ value: Int64, to out: inout [UInt8]) {
        out.append(type)
        ASCII.appendDecimal(value, to: &out)
        out.append(contentsOf: ASCII.crlf)
    }

    private static func appendLine(type: UInt8, _ text: String, to out: inout [UInt8]) {
        out.append(type)
        for byte in text.utf8 { out.append(byte == ASCII.cr || byte == ASCII.lf ? ASCII.space : byte) }
        out.append(contentsOf: ASCII.crlf)
    }
}
