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
        try bytes.withUnsafeBufferPointer { buffer throws(InputFileError) in
            if let offset = firstInvalidUTF8(buffer) {
                throw invalidUTF8(byte: buffer[offset], offset: offset, line: buffer[..<offset].count { $0 == UInt8(ascii: "\n") } + 1)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte of `bytes` that is not part of a valid UTF-8 sequence, or `nil`.
    /// Pure ASCII, the usual case, is recognised without decoding.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// The error for a byte that is not UTF-8, at `offset` in the file, on 1-based `line`.
    static func invalidUTF8(byte: UInt8, offset: Int, line: Int) -> InputFileError {
        let hex = String(byte, radix: 16, uppercase: true)
        return InputFileError("not valid UTF-8: byte 0x\(hex.count == 1 ? "0" : "")\(hex) at offset \(offset) (line \(line))")
    }

    /// Calls `body` with each line of the file at `path` (without its newline) and its 1-based
    /// number, reading the file in large chunks instead of holding it whole, and checking that every
    /// line is UTF-8 before `body` sees it. A line that is not stops the read with the same error
    /// `text(at:)` gives.
    ///
    /// `body`'s own errors do not stop the read: it records them, and the rest of the file is still
    /// checked, so that bytes that are not text anywhere in a file are reported first, as when the
    /// whole file is decoded before it is parsed.
    package static func forEachLine(at path: String, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) throws(InputFileError) {
        try requireRegularFile(path)
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw InputFileError("cannot be read") }
        defer { close(descriptor) }
        var lines = LineSplitter()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw InputFileError("cannot be read") }
            if count == 0 { break }
            try chunk.withUnsafeBufferPointer { buffer throws(InputFileError) in try lines.feed(UnsafeBufferPointer(rebasing: buffer[..<count]), body) }
        }
        try lines.finish(body)
    }

    /// Calls `body` with each line of `text`, as `forEachLine(at:)` does for a file.
    package static func forEachLine(of text: String, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        var text = text
        var lines = LineSplitter()
        text.withUTF8 { buffer in
            // A String is UTF-8 already: the splitter's check cannot fail.
            try? lines.feed(buffer, body)
            try? lines.finish(body)
        }
    }
}

/// Cuts chunks of bytes into lines, carrying a line that spans chunks over to the next one.
private struct LineSplitter {
    typealias Body = (UnsafeBufferPointer<UInt8>, Int) -> Void
    /// The start of a line the last chunk did not finish.
    var carried: [UInt8] = []
    var lineNumber = 0
    /// Offset in the input of the next line's first byte, for UTF-8 errors.
    var offset = 0

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ body: Body) throws(InputFileError) {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        while start < chunk.count, let newline = memchr(base + start, 0x0A, chunk.count - start) {
            let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            let rest = UnsafeBufferPointer(rebasing: chunk[start..<end])
            if carried.isEmpty {
                try emit(rest, body)
            } else {
                carried.append(contentsOf: rest)
                try emitCarried(body)
            }
            start = end + 1
        }
        carried.append(contentsOf: chunk[start...])
    }

    /// The last line, if the input does not end with a newline.
    mutating func finish(_ body: Body) throws(InputFileError) {
        if !carried.isEmpty { try emitCarried(body) }
    }

    mutating func emitCarried(_ body: Body) throws(InputFileError) {
        let line = carried
        carried = []
        try line.withUnsafeBufferPointer { buffer throws(InputFileError) in try emit(buffer, body) }
    }

    mutating func emit(_ line: UnsafeBufferPointer<UInt8>, _ body: Body) throws(InputFileError) {
        lineNumber += 1
        if let bad = InputFile.firstInvalidUTF8(line) {
            throw InputFile.invalidUTF8(byte: line[bad], offset: offset + bad, line: lineNumber)
        }
        offset += line.count + 1
        body(line, lineNumber)
    }
}

/// Why a named file cannot be read as text.
package struct InputFileError: Error, Hashable, Sendable, CustomStringConvertible {
    package var reason: String

    init(_ reason: String) { self.reason = reason }

    package var description: String { reason }
}
