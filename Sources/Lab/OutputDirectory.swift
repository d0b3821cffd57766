import Foundation

/// Paths as the file system resolves them, to tell whether two names are one file.
enum FilePaths {
    /// The canonical path (symbolic links, `.` and `..` resolved), or nil when nothing is there.
    static func real(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether both paths name one existing file or folder.
    static func same(_ a: String, _ b: String) -> Bool {
        guard let a = real(a), let b = real(b) else { return false }
        return a == b
    }
}

/// The folder a run, a study or a merge writes into, made and proven writable before any work:
/// an unusable `--out` found after an hour of simulation would lose the hour.
package enum OutputDirectory {
    /// Creates `path` with its parents and writes and removes a probe file in it.
    package static func prepare(_ path: String) throws(OutputDirectoryError) {
        guard !path.isEmpty else { throw OutputDirectoryError(path: path, reason: "an empty path names no folder") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            try makeFolder(prefix, for: path)
        }
        try probe(path)
    }

    /// One level of `prepare`: an existing folder is fine, a file in the way is named.
    static func makeFolder(_ folder: String, for path: String) throws(OutputDirectoryError) {
        var status = stat()
        if stat(folder, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw OutputDirectoryError(path: path, reason: folder == path ? "is a file, not a folder" : "\(folder) is a file, not a folder")
            }
            return
        }
        guard mkdir(folder, 0o777) == 0 || errno == EEXIST else {
            throw OutputDirectoryError(path: path, reason: "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// Writing a file is what the run will do; `access` is not enough (read-only mounts, /proc).
    static func probe(_ path: String) throws(OutputDirectoryError) {
        let file = (path as NSString).appendingPathComponent(".conlab-probe-\(getpid())")
        let descriptor = open(file, O_CREAT | O_WRONLY | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw OutputDirectoryError(path: path, reason: "cannot write in it: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(file)
    }
}

/// An output folder that cannot be used, with the reason.
package struct OutputDirectoryError: Error, Hashable, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package var description: String { "output folder '\(path)': \(reason)" }
}
