import ConsensusCore
@testable import Server
import Testing

/// The runner reads a node's observations by number and acknowledges them by asking for the next
/// number: an answer lost on the way (an admin call that timed out under load) is sent again, so a
/// `decided` or a `violation` never goes missing from the run's record.
@Suite struct ObservationTests {
    static func faults(decisions: Int) -> InjectedFaults {
        var faults = InjectedFaults()
        faults.recording = true
        for transaction in 0..<decisions { faults.record(.decided(transaction: UInt64(transaction), commit: true), at: Instant(microseconds: 1)) }
        return faults
    }

    @Test func anAnswerNotAcknowledgedIsSentAgain() {
        var faults = Self.faults(decisions: 3)
        let lost = faults.observations(from: 0)
        let again = faults.observations(from: 0)
        #expect(lost.first == 0 && again.first == 0)
        #expect(again.items.count == 3 && again.items == lost.items)
    }

    @Test func askingForTheNextNumberForgetsWhatWasRead() {
        var faults = Self.faults(decisions: 3)
        let read = faults.observations(from: 0)
        faults.record(.decided(transaction: 7, commit: false), at: Instant(microseconds: 2))
        let next = faults.observations(from: read.first + read.items.count)
        #expect(next.first == 3 && next.items.count == 1)
        #expect(faults.observations.count == 1, "the three read are forgotten")
        // A number beyond what was kept forgets everything and returns nothing.
        let past = faults.observations(from: 100)
        #expect(past.first == 4 && past.items.isEmpty)
    }
}
