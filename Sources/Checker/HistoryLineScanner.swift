import Foundation

/// Reads one line of `history.jsonl` straight from its bytes into the members the checker uses,
/// without building a generic JSON value: on a large history the generic parser (`JSONValue`),
/// with its arrays of members, boxed values and a `String` per name, took most of `conlab check`'s
/// time.
///
/// It takes the history format as JSON allows it to be written: members in any order, whitespace
/// between tokens, escapes in strings (`\uXXXX` and surrogate pairs included), and members it does
/// not know, whose values it checks and skips. It refuses a line (`scan` returns false) at the first
/// thing it does not take: a syntax error, a duplicate member, a value of the wrong type, a number
/// that is not a plain non-negative integer of at most 15 digits (`1.0`, `-1`, `1e3`: the generic
/// parser accepts some of these and explains the others), an object among the unknown members, a
/// member name with an escape. The reader then hands the line to the generic parser, so a refusal is
/// never a verdict, only a slower path, and every error message comes from that one parser.
struct HistoryLineScanner: HistoryLineFields {
    enum Slot: Equatable {
        case absent, null
        case string(String)
        case integer(Int64)
    }

    private(set) var line = 0
    /// Per `HistoryField.slot`, the member's value on the line last scanned.
    private var slots = [Slot](repeating: .absent, count: HistoryField.allCases.count)
    /// Where the names of members the checker does not read are, so that a duplicate is refused as
    /// the generic parser refuses it.
    private var otherNames: [Range<Int>] = []

    /// Scans `bytes`, one line without its newline; false if the line is not in the form it takes.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> Bool {
        self.line = line
        for index in slots.indices { slots[index] = .absent }
        otherNames.removeAll(keepingCapacity: true)
        var cursor = Cursor(bytes: bytes)
        return object(&cursor)
    }

    private mutating func object(_ cursor: inout Cursor) -> Bool {
        cursor.skipSpace()
        guard cursor.take(UInt8(ascii: "{")) else { return false }
        cursor.skipSpace()
        if !cursor.take(UInt8(ascii: "}")) {
            repeat {
                guard member(&cursor) else { return false }
            } while cursor.take(UInt8(ascii: ","))
            guard cursor.take(UInt8(ascii: "}")) else { return false }
        }
        cursor.skipSpace()
        return cursor.atEnd
    }

    /// One `"name": value` and the space after it.
    private mutating func member(_ cursor: inout Cursor) -> Bool {
        cursor.skipSpace()
        guard let name = cursor.plainName() else { return false }
        cursor.skipSpace()
        guard cursor.take(UInt8(ascii: ":")) else { return false }
        cursor.skipSpace()
        if let field = HistoryField(named: name, in: cursor.bytes) {
            guard slots[field.slot] == .absent, let value = cursor.fieldValue() else { return false }
            slots[field.slot] = value
        } else {
            guard !otherNames.contains(where: { cursor.bytes[$0].elementsEqual(cursor.bytes[name]) }),
                  cursor.skipValue(depth: 0) else { return false }
            otherNames.append(name)
        }
        cursor.skipSpace()
        return true
    }

    // The accessors' errors are never shown: the reader sends a line they reject through the generic
    // parser, whose message is the one the user sees.

    func string(_ field: HistoryField) throws(HistoryError) -> String {
        guard case .string(let text) = slots[field.slot] else { throw refused }
        return text
    }

    func nullableString(_ field: HistoryField) throws(HistoryError) -> String? {
        switch slots[field.slot] {
        case .null: return nil
        case .string(let text): return text
        default: throw refused
        }
    }

    func optionalNullableString(_ field: HistoryField) throws(HistoryError) -> String? {
        slots[field.slot] == .absent ? nil : try nullableString(field)
    }

    func integer(_ field: HistoryField) throws(HistoryError) -> Int64 {
        guard case .integer(let value) = slots[field.slot] else { throw refused }
        return value
    }

    func optionalInteger(_ field: HistoryField) throws(HistoryError) -> Int64? {
        slots[field.slot] == .null ? nil : try integer(field)
    }

    private var refused: HistoryError { error("not in the scanner's form") }
}

extension HistoryField {
    /// Index in the scanner's slots.
    var slot: Int {
        switch self {
        case .id: 0
        case .client: 1
        case .node: 2
        case .op: 3
        case .key: 4
        case .value: 5
        case .expected: 6
        case .outcome: 7
        case .error: 8
        case .invokeUs: 9
        case .completeUs: 10
        }
    }

    private static let names = allCases.map { Array($0.rawValue.utf8) }

    /// The field whose name is `bytes[range]`, or `nil` for a member the checker does not read.
    init?(named range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) {
        // The one candidate of that length and first letter, then a comparison: this runs for
        // every member of every line.
        let candidate: HistoryField? = switch (range.count, range.isEmpty ? 0 : bytes[range.lowerBound]) {
        case (2, UInt8(ascii: "i")): .id
        case (2, UInt8(ascii: "o")): .op
        case (3, _): .key
        case (4, _): .node
        case (5, UInt8(ascii: "v")): .value
        case (5, UInt8(ascii: "e")): .error
        case (6, _): .client
        case (7, _): .outcome
        case (8, _): .expected
        case (9, _): .invokeUs
        case (11, _): .completeUs
        default: nil
        }
        guard let candidate, Self.names[candidate.slot].withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, range.count) == 0 })
        else { return nil }
        self = candidate
    }
}

/// A position in a line's bytes, with the JSON tokens the scanner takes. Every method either
/// consumes what it names or reports failure; after a failure the scan is abandoned.
private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    var atEnd: Bool { position == bytes.count }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0D { position += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        position += 1
        return true
    }

    mutating func take(literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count,
              UnsafeBufferPointer(start: literal.utf8Start, count: count).elementsEqual(bytes[position..<position + count]) else { return false }
        position += count
        return true
    }

    /// A member name without escapes (a name with one is left to the generic parser): its range.
    mutating func plainName() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = position
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            position += 1
        }
        guard take(UInt8(ascii: "\"")) else { return nil }
        return start..<position - 1
    }

    /// The value of a member the checker reads: a string, `null` or a plain integer.
    mutating func fieldValue() -> HistoryLineScanner.Slot? {
        switch current {
        case UInt8(ascii: "\""): string().map(HistoryLineScanner.Slot.string)
        case UInt8(ascii: "n"): take(literal: "null") ? .null : nil
        case .some(UInt8(ascii: "0")...UInt8(ascii: "9")): integer().map(HistoryLineScanner.Slot.integer)
        default: nil
        }
    }

    /// Digits only, no leading zero, at most 15 of them (below 2^53, where a JSON number is exact),
    /// and not followed by a fraction or an exponent.
    mutating func integer() -> Int64? {
        let start = position
        var value: Int64 = 0
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            position += 1
            guard position - start <= 15 else { return nil }
        }
        let digits = position - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return nil }
        return value
    }

    /// A string value, escapes decoded.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = position
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { return nil }
            position += 1
        }
        if take(UInt8(ascii: "\"")) { return String(decoding: bytes[start..<position - 1], as: UTF8.self) }
        var decoded = Array(bytes[start..<position])
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte >= 0x20 else { return nil }
            position += 1
            if byte == UInt8(ascii: "\\") {
                guard escape(into: &decoded) else { return nil }
            } else {
                decoded.append(byte)
            }
        }
        guard take(UInt8(ascii: "\"")) else { return nil }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// The escape after a backslash, as RFC 8259 § 7 defines them.
    mutating func escape(into decoded: inout [UInt8]) -> Bool {
        guard let byte = current else { return false }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            guard let scalar = unicodeEscape() else { return false }
            decoded.append(contentsOf: UTF8.encode(scalar)!)
        default: return false
        }
        return true
    }

    /// `XXXX` after `\u`, with the low half of a surrogate pair after it when it is a high half.
    mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let code = hex4() else { return nil }
        guard (0xD800..<0xDC00).contains(code) else { return Unicode.Scalar(code) }
        guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
        return Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
    }

    mutating func hex4() -> UInt32? {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Skips the value of a member the checker does not read, checking its syntax: strings, plain
    /// numbers, literals and arrays of them; an object or an exponent is left to the generic parser.
    mutating func skipValue(depth: Int) -> Bool {
        switch current {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return take(literal: "true")
        case UInt8(ascii: "f"): return take(literal: "false")
        case UInt8(ascii: "n"): return take(literal: "null")
        case UInt8(ascii: "["): return depth < 64 && skipArray(depth: depth + 1)
        case UInt8(ascii: "-"):
            position += 1
            return skipNumber()
        case .some(UInt8(ascii: "0")...UInt8(ascii: "9")): return skipNumber()
        default: return false
        }
    }

    /// An integer part as `integer()` takes it, then an optional fraction.
    mutating func skipNumber() -> Bool {
        guard let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
        let start = position
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
        guard position - start <= 15, position - start == 1 || bytes[start] != UInt8(ascii: "0") else { return false }
        if take(UInt8(ascii: ".")) {
            let fraction = position
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
            guard position > fraction else { return false }
        }
        return current != UInt8(ascii: "e") && current != UInt8(ascii: "E")
    }

    mutating func skipArray(depth: Int) -> Bool {
        position += 1
        skipSpace()
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            skipSpace()
            guard skipValue(depth: depth) else { return false }
            skipSpace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }
}
