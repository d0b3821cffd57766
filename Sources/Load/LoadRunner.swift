import ConsensusCore
import Runtime

/// A `conlab load` run: connect every client, preload, warm up, measure, add up.
public enum LoadRunner {
    /// Runs the load `options` describe; `log` hears what is happening (a line per phase).
    /// Throws when the target cannot be reached at the start or the preload fails; errors during
    /// the run are counted in the result instead.
    public static func run(_ options: LoadOptions, log: (String) -> Void = { _ in }) throws(LoadRunFailure) -> LoadResult {
        var clients: [LoadClient] = []
        for index in 0..<options.clients { clients.append(try LoadClient(index: index, options: options)) }
        if options.preloads {
            log("preloading \(options.keys) keys of \(options.valueBytes) bytes")
            try preload(clients, options: options)
        }
        log("running \(options.clients) clients: \(options.warmup) warmup, then \(options.duration) measured")
        let start = MonotonicClock.now() + options.warmup, end = start + options.duration
        ClientThreads.run(clients) { $0.run(measuringFrom: start, until: end) }
        var tally = ClientTally()
        for client in clients { tally.add(client.tally) }
        return LoadResult(options: options, tally: tally)
    }

    /// Every key once, the keys dealt round-robin to the clients, so the writes spread over the
    /// addresses and run `clients` at a time. A key is retried for the run's timeout before the
    /// preload gives up.
    private static func preload(_ clients: [LoadClient], options: LoadOptions) throws(LoadRunFailure) {
        ClientThreads.run(clients) { client in
            client.preload(stride(from: client.index, to: options.keys, by: options.clients), valueBytes: options.valueBytes, patience: options.timeout)
        }
        if let failure = clients.lazy.compactMap(\.preloadFailure).first {
            throw LoadRunFailure(description: "the preload could not write \(failure)")
        }
    }
}
