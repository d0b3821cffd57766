/// Inline commands (`PING\r\n`, `SET k "a b"\r\n`): a line split into arguments the way Redis's
/// `sdssplitargs` splits it, so what a person types at a telnet prompt means what it means to
/// Redis. Arguments are separated by blanks; `"…"` quotes with `\n \r \t \b \a \\ \"` and `\xHH`
/// escapes, `'…'` quotes with `\'` only; a closing quote must be followed by a blank or the end of
/// the line; a NUL byte ends the line (Redis splits a C string).
enum InlineCommand {
    /// The arguments of `line` (without its line end); `nil` when quotes are unbalanced.
    static func split(_ line: ArraySlice<UInt8>) -> [[UInt8]]? {
        let line = line.firstIndex(of: ASCII.nul).map { line[..<$0] } ?? line
        var arguments: [[UInt8]] = []
        var position = line.startIndex
        while true {
            while position < line.endIndex, ASCII.isSpace(line[position]) { position += 1 }
            guard position < line.endIndex else { return arguments }
            guard let (argument, next) = argument(in: line, from: position) else { return nil }
            arguments.append(argument)
            position = next
        }
    }

    /// The argument starting at `start`, and where the next one may start.
    private static func argument(in line: ArraySlice<UInt8>, from start: Int) -> ([UInt8], Int)? {
        var current: [UInt8] = []
        var position = start
        while position < line.endIndex {
            let byte = line[position]
            switch byte {
            case ASCII.space, ASCII.lf, ASCII.cr, ASCII.tab:
                return (current, position)
            case ASCII.doubleQuote:
                guard let end = doubleQuoted(line, from: position + 1, into: &current) else { return nil }
                return (current, end)
            case ASCII.singleQuote:
                guard let end = singleQuoted(line, from: position + 1, into: &current) else { return nil }
                return (current, end)
            default:
                current.append(byte)
                position += 1
            }
        }
        return (current, position)
    }

    /// Reads a `"`-quoted part up to its closing quote; returns the position after it.
    private static func doubleQuoted(_ line: ArraySlice<UInt8>, from start: Int, into current: inout [UInt8]) -> Int? {
        var position = start
        while position < line.endIndex {
            let byte = line[position]
            if byte == ASCII.backslash, position + 3 < line.endIndex, line[position + 1] == UInt8(ascii: "x"),
               let high = hexValue(line[position + 2]), let low = hexValue(line[position + 3]) {
                current.append(high << 4 | low)
                position += 4
            } else if byte == ASCII.backslash, position + 1 < line.endIndex {
                current.append(unescaped(line[position + 1]))
                position += 2
            } else if byte == ASCII.doubleQuote {
                return closingQuote(line, at: position)
            } else {
                current.append(byte)
                position += 1
            }
        }
        return nil
    }

    /// Reads a `'`-quoted part up to its closing quote; returns the position after it.
    private static func singleQuoted(_ line: ArraySlice<UInt8>, from start: Int, into current: inout [UInt8]) -> Int? {
        var position = start
        while position < line.endIndex {
            let byte = line[position]
            if byte == ASCII.backslash, position + 1 < line.endIndex, line[position + 1] == ASCII.singleQuote {
                current.append(ASCII.singleQuote)
                position += 2
            } else if byte == ASCII.singleQuote {
                return closingQuote(line, at: position)
            } else {
                current.append(byte)
                position += 1
            }
        }
        return nil
    }

    /// A closing quote must end the argument: `"a"b` is refused, as in Redis.
    private static func closingQuote(_ line: ArraySlice<UInt8>, at position: Int) -> Int? {
        let next = position + 1
        guard next == line.endIndex || ASCII.isSpace(line[next]) else { return nil }
        return next
    }

    private static func unescaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): ASCII.lf
        case UInt8(ascii: "r"): ASCII.cr
        case UInt8(ascii: "t"): ASCII.tab
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "a"): 0x07
        default: byte
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case ASCII.zero...ASCII.nine: byte - ASCII.zero
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
