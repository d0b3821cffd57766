import ConsensusCore
import Runtime
import Testing

@Suite struct BackoffTests {
    @Test func backOffDoublesToItsCapWithJitter() {
        let backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(200))
        var random = SplitMix64(seed: 1)
        for failures in 0..<40 {
            let ceiling = min(10_000 << Int64(min(failures, 30)), 200_000)
            for _ in 0..<50 {
                let delay = backoff.delay(afterFailures: failures, using: &random).microseconds
                #expect(delay >= ceiling / 2 && delay <= ceiling, "after \(failures) failures")
            }
        }
    }
}
