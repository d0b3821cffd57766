import Dispatch
import Foundation

/// Runs `body` for each client on an OS thread of its own and waits for all of them. A closed-loop
/// client blocks in `recv` for most of its life: a thread each (not a pool's few workers) is what
/// lets N clients keep N requests outstanding.
enum ClientThreads {
    static func run(_ clients: [LoadClient], _ body: @escaping @Sendable (LoadClient) -> Void) {
        let finished = DispatchGroup()
        for client in clients {
            finished.enter()
            let thread = Thread {
                body(client)
                finished.leave()
            }
            thread.name = "conlab load client \(client.index)"
            thread.start()
        }
        finished.wait()
    }
}
