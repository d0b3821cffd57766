/// The bytes the protocol is made of, and decimal numbers read and written without going through
/// `String`: the parser and the encoder run once per byte of every command, so they stay on bytes.
enum ASCII {
    static let cr: UInt8 = 0x0D  // \r
    static let lf: UInt8 = 0x0A  // \n
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let nul: UInt8 = 0x00
    static let star: UInt8 = 0x2A  // *
    static let dollar: UInt8 = 0x24  // $
    static let minus: UInt8 = 0x2D  // -
    static let zero: UInt8 = 0x30  // 0
    static let nine: UInt8 = 0x39  // 9
    static let doubleQuote: UInt8 = 0x22
    static let singleQuote: UInt8 = 0x27
    static let backslash: UInt8 = 0x5C
    static let crlf: [UInt8] = [cr, lf]

    /// The longest a count line (`*3`, `$5`) may be between its type byte and CRLF: a sign and the
    /// 19 digits of a 64-bit integer, which is how Redis reads counts. Anything longer is invalid,
    /// so it is refused at once instead of buffered while waiting for a CR that never comes.
    static let maximumCountLength = 20

    static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }

    /// C's `isspace`, which Redis uses between inline arguments.
    static func isSpace(_ byte: UInt8) -> Bool { byte == space || (byte >= tab && byte <= cr) }

    /// `byte` as Redis prints an unexpected byte: itself when printable, else `\xHH`.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        return "\\x" + hex(byte)
    }

    /// `bytes` quoted for an error message: printable bytes as they are, others as `\xHH`, at most
    /// `limit` bytes, so an attacker's megabyte of garbage does not become a megabyte of error.
    static func describe<Bytes: Collection<UInt8>>(_ bytes: Bytes, limit: Int = 32) -> String {
        var text = bytes.prefix(limit).map(describe).joined()
        if bytes.count > limit { text += "…" }
        return text
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// Appends `value` in decimal.
    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(minus) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = zero + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// `bytes` as a strict decimal integer, as Redis's `string2ll` reads it: an optional `-`, then
    /// digits without leading zeros, nothing else; `nil` otherwise or when it would overflow.
    /// (Concrete, not generic: builds that are not whole-module cannot specialise a generic
    /// helper for callers in other files, and this one runs for every header of every command.)
    static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var rest = bytes
        let negative = rest.first == minus
        if negative { rest = rest.dropFirst() }
        guard let first = rest.first, isDigit(first), rest.count <= 19 else { return nil }
        if first == zero { return rest.count == 1 && !negative ? 0 : nil }
        var magnitude: UInt64 = 0
        for byte in rest {
            guard isDigit(byte) else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - zero))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
        }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }
}
