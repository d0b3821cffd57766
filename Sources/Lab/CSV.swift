/// CSV as RFC 4180 writes it: comma-separated, a field quoted only when it holds a comma, a quote or
/// a line break; `\n` line ends. Column names are stable; new columns are added at the end.
struct CSVTable {
    let columns: [String]
    private(set) var rows: [[String]] = []

    init(columns: [String]) { self.columns = columns }

    mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "CSV row has \(row.count) fields for \(columns.count) columns")
        rows.append(row)
    }

    mutating func append(contentsOf other: CSVTable) {
        precondition(other.columns == columns)
        rows.append(contentsOf: other.rows)
    }

    var text: String {
        var out = columns.map(Self.escape).joined(separator: ",") + "\n"
        for row in rows { out += row.map(Self.escape).joined(separator: ",") + "\n" }
        return out
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Numbers in reports: fixed decimals computed with integer arithmetic, so the text never depends
/// on the locale or on the platform's float formatting.
enum Number {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "" }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        let whole = scaled / scale, fraction = scaled % scale
        guard digits > 0 else { return sign + String(whole) }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    static func milliseconds(_ duration: TimeSpan?) -> String { duration.map { fixed($0.milliseconds, 3) } ?? "" }

    /// An integer with its thousands grouped for a reader (`30,000`), whatever the locale.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return (value < 0 ? "-" : "") + text
    }
}

import ConsensusCore
import Foundation

extension String {
    /// A name safe for a file or folder: letters, digits, `.`, `-` and `_`.
    package var fileSafe: String {
        String(map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "_" })
    }
}
