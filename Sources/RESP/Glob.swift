/// The part of Redis's glob patterns (`stringmatchlen`) that `CONFIG GET` patterns use: `*` for
/// any run of characters, `?` for one, everything else itself. Brackets and escapes are matched
/// literally; no configuration name here contains them.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern.utf8), text = Array(text.utf8)
        var p = 0, t = 0
        // Where the last `*` was, and the text position it is trying to cover up to: on a
        // mismatch, the star takes one more character (the classic linear-backtracking match).
        var star: Int?, starText = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                starText = t
                p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if let star {
                p = star + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
