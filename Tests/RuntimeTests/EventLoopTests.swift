import ConsensusCore
import Runtime
import Testing

@Suite struct EventLoopTests {
    @Test func timersFireInDeadlineOrderAndTiesInSchedulingOrder() async throws {
        try await withEventLoop { loop in
            let fired = Recorder<String>()
            try await loop.submit {
                let start = loop.now
                for (name, delay) in [("c", 30), ("a", 10), ("b1", 20), ("b2", 20), ("zero", 0)] {
                    loop.schedule(at: start + .milliseconds(Int64(delay))) { fired.append(name) }
                }
            }
            #expect(await eventually { fired.values.count == 5 })
            #expect(fired.values == ["zero", "a", "b1", "b2", "c"])
        }
    }

    /// A node's group commit runs after everything the turn read and before the turn's flush;
    /// an action queued by an action runs in the same turn.
    @Test func endOfTurnActionsRunAfterTheTurnsWorkAndBeforeTheNextTurn() async throws {
        try await withEventLoop { loop in
            let order = Recorder<String>()
            try await loop.submit {
                _ = loop.schedule(after: .zero) {
                    loop.atEndOfTurn {
                        order.append("end of turn")
                        loop.atEndOfTurn { order.append("queued by the action") }
                    }
                    order.append("timer")
                    loop.schedule(after: .zero) { order.append("next turn") }
                }
            }
            #expect(await eventually { order.values.count == 4 })
            #expect(order.values == ["timer", "end of turn", "queued by the action", "next turn"])
        }
    }

    @Test func aTimerFiresNoEarlierThanItsDeadline() async throws {
        try await withEventLoop { loop in
            let lateness = Recorder<Int64>()
            try await loop.submit {
                let deadline = loop.now + .milliseconds(25)
                loop.schedule(at: deadline) { lateness.append((loop.now - deadline).microseconds) }
            }
            #expect(await eventually { !lateness.values.isEmpty })
            let late = try #require(lateness.values.first)
            #expect(late >= 0)
        }
    }

    @Test func aCancelledTimerNeverFires() async throws {
        try await withEventLoop { loop in
            let fired = Recorder<String>()
            try await loop.submit {
                // Deadlines from one reading of the clock: on a loaded machine the thread may pause
                // between two readings for longer than the 5 ms between the deadlines.
                let start = loop.now
                let doomed = loop.schedule(at: start + .milliseconds(10)) { fired.append("cancelled") }
                // A timer due at the same turn cancels the other before it runs.
                loop.schedule(at: start + .milliseconds(5)) { loop.cancel(doomed) }
                loop.schedule(at: start + .milliseconds(20)) { fired.append("kept") }
            }
            #expect(await eventually { fired.values == ["kept"] })
            try await Task.sleep(for: .milliseconds(20))
            #expect(fired.values == ["kept"])
        }
    }

    /// Many timers re-armed and cancelled (an election timer at each heartbeat) leave a queue of
    /// the live ones, and the live ones still fire.
    @Test func reArmingTimersManyTimesKeepsOnlyTheLiveOne() async throws {
        try await withEventLoop { loop in
            let fired = Recorder<Int>()
            try await loop.submit {
                var timer = loop.schedule(after: .seconds(60)) { fired.append(-1) }
                for round in 0..<10_000 {
                    loop.cancel(timer)
                    timer = loop.schedule(after: .milliseconds(round == 9_999 ? 1 : 60_000)) { fired.append(round) }
                }
            }
            #expect(await eventually { fired.values == [9_999] })
        }
    }

    @Test func closuresFromOtherThreadsRunOnTheLoopInOrder() async throws {
        try await withEventLoop { loop in
            let ran = Recorder<(Int, Bool)>()
            await withTaskGroup(of: Void.self) { group in
                for sender in 0..<4 {
                    group.addTask {
                        for index in 0..<100 { loop.execute { ran.append((sender * 1000 + index, loop.inLoopThread)) } }
                    }
                }
            }
            #expect(await eventually { ran.values.count == 400 })
            #expect(ran.values.allSatisfy { $0.1 })
            for sender in 0..<4 {
                let order = ran.values.map(\.0).filter { $0 / 1000 == sender }
                #expect(order == order.sorted(), "sender \(sender)'s closures ran out of order")
            }
            #expect(!loop.inLoopThread)
        }
    }

    /// The loop sleeps in epoll_wait with no timer at all; only the eventfd can wake it.
    @Test func aWakeUpReachesALoopSleepingWithoutTimers() async throws {
        try await withEventLoop { loop in
            try await Task.sleep(for: .milliseconds(50))
            let answer = try await loop.submit { 42 }
            #expect(answer == 42)
        }
    }

    @Test func aShutDownLoopRefusesWork() async throws {
        let loop = try EventLoop()
        loop.shutdown()
        #expect(!loop.execute {})
        await #expect(throws: EventLoopShutDown.self) { try await loop.submit { 1 } }
        loop.shutdown()
    }
}
