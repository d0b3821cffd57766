import ConsensusCore

/// What one run can simulate. A scenario beyond these is refused before anything runs, with the
/// limit in the message: past them a run would trap on overflowing time arithmetic, never end
/// (a retry every microsecond), or take hours and gigabytes for a result nobody wanted. The
/// README's scenario table lists them.
public enum ScenarioLimits {
    /// `duration + quiescence`; every other span of a scenario is bounded by it too.
    public static let runLength = TimeSpan.longestRun
    /// A client's `retry`: each unanswered request is re-sent this often, so a tiny interval floods
    /// the event queue (1us meant a million re-sends per operation and second).
    public static let shortestRetry = TimeSpan.milliseconds(1)
    /// A client's `redirectBackoff`: during an election every client re-asks this often, so a tiny
    /// backoff floods the run with requests as a tiny `retry` does.
    public static let shortestRedirectBackoff = TimeSpan.microseconds(100)
    /// The nemesis's `interval` lower bound: one fault cycle at least this long keeps a 6-hour
    /// schedule to about two million faults.
    public static let shortestNemesisInterval = TimeSpan.milliseconds(10)
    /// The nemesis's `length` lower bound.
    public static let shortestNemesisLength = TimeSpan.milliseconds(1)
    /// `storage.flushInterval`: the unsafe mode models a periodic flush (Linux's is seconds);
    /// below a millisecond it is a synchronous write in disguise, most likely a typo.
    public static let shortestFlushInterval = TimeSpan.milliseconds(1)
    /// Seeds per scenario (a list or a range), and `--seeds` on the command line.
    public static let seeds = 10_000
    public static let nodes = 99
    public static let clientsPerNode = 1_000
    /// Clients of the whole cluster (`nodes × clientsPerNode`).
    public static let clients = 10_000
    public static let keys = 1_000_000
    /// Server groups of a sharded deployment (`g1`…`g64`), and buckets of its key space.
    public static let shardGroups = 64
    public static let buckets = 4_096
    /// Open-loop arrivals per node and second.
    public static let openRate = 100_000.0
    /// Operations one open-loop client may have in flight (`outstanding`).
    public static let outstanding = 1_000
}
