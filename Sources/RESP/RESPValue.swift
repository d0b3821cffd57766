/// A reply to a client: the RESP2 types, and the RESP3 map that `HELLO 3` and `CONFIG GET` answer
/// with. A null is `bulk(nil)` or `array(nil)`: RESP2 tells the two apart (`$-1`, `*-1`), RESP3
/// has one null (`_`), and `encode(into:version:)` writes whichever the connection speaks.
public enum RESPValue: Hashable, Sendable {
    /// `+OK`: a short status without CR or LF.
    case simpleString(String)
    /// `-ERR …`: the first word is the error's kind (`ERR`, `TRYAGAIN`, `NOPROTO`, …).
    case error(String)
    case integer(Int64)
    /// A binary-safe string; `nil` is the null bulk string (a missing key).
    case bulk([UInt8]?)
    /// `nil` is the null array.
    case array([RESPValue]?)
    /// A RESP3 map; RESP2 has none, so there it is a flat array of keys and values.
    case map([RESPMapEntry])

    /// `+OK`.
    public static let ok = RESPValue.simpleString("OK")
    /// The null a missing value is: `$-1` in RESP2, `_` in RESP3.
    public static let null = RESPValue.bulk(nil)

    /// A bulk string holding `text` as UTF-8.
    public static func bulk(_ text: String) -> RESPValue { .bulk(Array(text.utf8)) }
}

/// One key and its value in a `RESPValue.map`.
public struct RESPMapEntry: Hashable, Sendable {
    public var key: RESPValue
    public var value: RESPValue

    public init(_ key: RESPValue, _ value: RESPValue) {
        self.key = key
        self.value = value
    }
}
