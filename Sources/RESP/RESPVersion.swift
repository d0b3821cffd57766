/// The reply protocol a connection speaks. Every connection starts with RESP2; `HELLO 3` switches
/// it to RESP3, whose replies differ from RESP2's where this front end uses them in two ways only:
/// the null (`_`) and maps (`%`), which RESP2 sends as a null bulk string and a flat array.
public enum RESPVersion: Int, Hashable, Sendable, CaseIterable {
    case resp2 = 2
    case resp3 = 3
}
