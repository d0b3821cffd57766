import ConsensusCore
import Glibc

/// The runtime's only clock: `CLOCK_MONOTONIC`, which wall-clock adjustments (NTP steps, an
/// operator's `date`) never move, so timers and election timeouts cannot jump. Read as an
/// `Instant`, the time type backends already step with; its origin (boot) means nothing, only
/// differences do.
public enum MonotonicClock {
    public static func now() -> Instant {
        var time = timespec()
        // Cannot fail for CLOCK_MONOTONIC with a valid pointer (POSIX: EINVAL/EFAULT only).
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(microseconds: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000)
    }
}
