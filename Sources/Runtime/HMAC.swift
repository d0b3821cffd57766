/// HMAC-SHA-256 (RFC 2104), with which peers prove they hold the cluster secret without sending it.
///
/// The key's inner and outer pads are hashed once at `init`, so each code costs two short hashes.
public struct HMACSHA256: Sendable {
    /// Bytes in a code.
    public static let codeSize = SHA256.digestSize

    private let inner: SHA256
    private let outer: SHA256

    /// A key longer than SHA-256's block is hashed first, as RFC 2104 says.
    public init(key: [UInt8]) {
        var block = key.count > SHA256.blockSize ? SHA256.hash(key) : key
        block.append(contentsOf: repeatElement(0, count: SHA256.blockSize - block.count))
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    /// The 32-byte code of `message`.
    public func code(for message: [UInt8]) -> [UInt8] {
        var inner = self.inner
        inner.update(message)
        var outer = self.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// Whether `code` is `message`'s code, compared in constant time so that a forger learns
    /// nothing from how long the refusal took.
    public func isValid(_ code: [UInt8], for message: [UInt8]) -> Bool {
        constantTimeEquals(code, self.code(for: message))
    }
}

/// Whether two byte strings are equal, taking the same time wherever they differ (the lengths are
/// not secret).
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}
