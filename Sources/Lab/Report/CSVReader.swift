import Foundation

/// Why a report could not be built: the file, where in it, and what is wrong.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ file: String, _ reason: String) { description = "\(file): \(reason)" }
}

/// A CSV file of an experiment folder read back by column name, with errors that name the file,
/// the row and the column.
struct CSVReader {
    struct Row {
        let file: String
        /// 1-based line of the record in the file (the header is line 1).
        let line: Int
        let fields: [String]
        let columns: [String: Int]

        func string(_ column: String) -> String { fields[columns[column]!] }

        /// A number, or nil for an empty field.
        func number(_ column: String) throws -> Double? {
            let text = string(column)
            guard !text.isEmpty else { return nil }
            guard let value = Double(text), value.isFinite else { throw ReportError(file, "line \(line), \(column): \"\(text)\" is not a number") }
            return value
        }

        /// A column that folders written before it existed lack: empty there.
        func stringIfPresent(_ column: String) -> String { columns[column] == nil ? "" : string(column) }

        /// A number of a column that folders written before it existed lack: nil there too.
        func numberIfPresent(_ column: String) throws -> Double? { columns[column] == nil ? nil : try number(column) }

        func int(_ column: String) throws -> Int {
            guard let value = Int(string(column)) else { throw ReportError(file, "line \(line), \(column): \"\(string(column))\" is not an integer") }
            return value
        }
    }

    let rows: [Row]

    /// Reads `name` in `directory`, checking that it has `required` columns. A missing optional
    /// file reads as no rows.
    init(_ directory: String, _ name: String, required: [String], optional: Bool = false) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if optional, !FileManager.default.fileExists(atPath: path) { rows = []; return }
            throw ReportError(path, "missing or unreadable")
        }
        let records = CSVRecords.split(text)
        guard let header = records.first?.fields else { throw ReportError(path, "empty; expected a header line") }
        var columns: [String: Int] = [:]
        for (index, column) in header.enumerated() where columns[column] == nil { columns[column] = index }
        if let absent = required.first(where: { columns[$0] == nil }) { throw ReportError(path, "no column \"\(absent)\"") }
        rows = try records.dropFirst().enumerated().map { offset, record in
            guard record.fields.count == header.count else {
                throw ReportError(path, "line \(offset + 2): \(record.fields.count) fields for \(header.count) columns")
            }
            return Row(file: path, line: offset + 2, fields: record.fields, columns: columns)
        }
    }
}
