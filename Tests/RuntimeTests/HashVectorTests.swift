import Runtime
import Testing

/// SHA-256 against the FIPS 180-4 example messages, HMAC-SHA-256 against every RFC 4231 test case.
@Suite struct HashVectorTests {
    @Test func sha256OfTheFIPSExamples() {
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func sha256OfOneMillionAs() {
        #expect(hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Streaming in pieces that straddle block boundaries gives the one-shot digest.
    @Test func sha256InPiecesEqualsOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for pieceSize in [1, 7, 63, 64, 65, 200] {
            var hasher = SHA256()
            for start in stride(from: 0, to: message.count, by: pieceSize) {
                hasher.update(Array(message[start..<min(start + pieceSize, message.count)]))
            }
            #expect(hasher.finalize() == SHA256.hash(message), "pieces of \(pieceSize)")
        }
    }

    struct RFC4231Case: Sendable, CustomTestStringConvertible {
        var number: Int
        var key: [UInt8]
        var data: [UInt8]
        /// The expected code; case 5 gives only its first 128 bits.
        var code: String
        var testDescription: String { "RFC 4231 case \(number)" }
    }

    static let rfc4231: [RFC4231Case] = [
        RFC4231Case(number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
                    code: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        RFC4231Case(number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
                    code: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        RFC4231Case(number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
                    code: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        RFC4231Case(number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
                    code: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        RFC4231Case(number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8),
                    code: "a3b6167473100ee06e0c796c2955552b"),
        RFC4231Case(number: 6, key: [UInt8](repeating: 0xaa, count: 131),
                    data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                    code: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        RFC4231Case(number: 7, key: [UInt8](repeating: 0xaa, count: 131),
                    data: Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                        + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
                    code: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    /// Case 5 checks the code truncated to 128 bits, as the RFC does.
    @Test(arguments: rfc4231) func hmacSHA256(_ vector: RFC4231Case) {
        let code = HMACSHA256(key: vector.key).code(for: vector.data)
        #expect(code.count == HMACSHA256.codeSize)
        #expect(hex(Array(code.prefix(vector.code.count / 2))) == vector.code)
    }

    @Test func verificationRefusesAnyOtherCode() {
        let mac = HMACSHA256(key: Array("secret".utf8))
        let message = Array("challenge".utf8)
        var code = mac.code(for: message)
        #expect(mac.isValid(code, for: message))
        code[31] ^= 1
        #expect(!mac.isValid(code, for: message))
        #expect(!mac.isValid(Array(code.prefix(16)), for: message))
        #expect(!HMACSHA256(key: Array("secreT".utf8)).isValid(mac.code(for: message), for: message))
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
}
