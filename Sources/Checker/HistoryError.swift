import ConsensusCore

/// A history the checker refuses to judge, with the place and the reason.
///
/// A history file names the 1-based line; an in-memory history names the operation id. The checker
/// never guesses around bad input: a wrong verdict on a malformed history is worse than none.
public struct HistoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, when the history was read from one.
    public var file: String?
    /// The 1-based line of `history.jsonl`, when the history was read from text.
    public var line: Int?
    public var reason: String

    init(file: String? = nil, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let line { parts.append("line \(line)") }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }
}

extension HistoryOperation {
    /// Why this operation cannot appear in a history, or `nil` when it can.
    ///
    /// Shared by the reader (which adds the line number) and by `Checker.check` (which adds the id),
    /// so a history built in memory is held to the same rules as one read from a file.
    var consistencyProblem: String? {
        switch (outcome, complete) {
        case (.indeterminate, .some):
            return "an indeterminate operation must have complete_us null"
        case (.ok, nil), (.fail, nil):
            return "complete_us is null but the outcome is \(outcome.name)"
        case (_, .some(let complete)) where complete < invoke:
            return "complete_us (\(complete.microseconds)) is before invoke_us (\(invoke.microseconds))"
        default:
            break
        }
        if case .fail(.casMismatch) = outcome, command.name != "cas" {
            return "error \"cas-mismatch\" on a \(command.name): only a cas can mismatch"
        }
        return nil
    }
}
