import Foundation

/// Reads a text file a user named (a scenario, a suite, a history), turning every way it can be
/// unusable into a sentence: a missing path, a directory, a device such as `/dev/null`, an
/// unreadable file, or bytes that are not UTF-8 (with the offset of the first bad byte).
/// Foundation's own errors ("The operation could not be completed", `NSCocoaErrorDomain`) name
/// neither the problem nor what to do, so none of them reaches the user.
///
/// Lives in `Checker`, the lowest module that reads user files, so that `Lab` shares it.
package enum InputFile {
    /// The file's text; the error's reason says why there is none (the caller adds the path).
    package static func text(at path: String) throws(InputFileError) -> String {
        try requireRegularFile(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw InputFileError("cannot be read") }
        return try utf8(Array(data))
    }

    /// Refuses anything but an existing, readable regular file, saying what the path is instead.
    static func requireRegularFile(_ path: String) throws(InputFileError) {
        guard !path.isEmpty else { throw InputFileError("an empty path names no file") }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw InputFileError(errno == EACCES ? "permission denied" : "no such file")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw InputFileError("is a directory, not a file")
        default: throw InputFileError("is not a regular file (a device, pipe or socket)")
        }
        guard access(path, R_OK) == 0 else { throw InputFileError("permission denied") }
    }

    /// Decodes UTF-8, or names the first byte that is not part of a valid sequence.
    static func utf8(_ bytes: [UInt8]) throws(InputFileError) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error:
                let line = bytes[..<offset].count { $0 == UInt8(ascii: "\n") } + 1
                let hex = String(bytes[offset], radix: 16, uppercase: true)
                throw InputFileError("not valid UTF-8: byte 0x\(hex.count == 1 ? "0" : "")\(hex) at offset \(offset) (line \(line))")
            }
        }
    }
}

/// Why a named file cannot be read as text.
package struct InputFileError: Error, Hashable, Sendable, CustomStringConvertible {
    package var reason: String

    init(_ reason: String) { self.reason = reason }

    package var description: String { reason }
}
