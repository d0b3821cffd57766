/// Which runs keep `runs/<run>/history.jsonl` (`conlab run --histories`). Histories are the largest
/// output by far (hundreds of megabytes for a suite), and the one a user needs only to re-check or
/// study a run; every other file is written whatever this says, and a run dropped here replays
/// from its seed.
public enum HistoryRetention: String, Sendable, CaseIterable {
    /// Every run's history (the default).
    case all
    /// Only the histories of runs the checker found anomalies in, or whose backend reported a
    /// safety violation.
    case failing
    /// No history.
    case none

    func keeps(_ output: RunOutput) -> Bool {
        switch self {
        case .all: true
        case .failing: output.hasAnomalies
        case .none: false
        }
    }
}
