import Foundation
import Load

extension Command {
    static let loadUsage = """
    conlab load --target URL [--clients N] [--duration D] [--warmup D] [--mix MIX] [--keys K]
                [--value-bytes B] [--csv FILE] [--preload | --no-preload] [--seed N] [--timeout D]
                [--etcd-serializable]

    A closed-loop load generator: N clients, each on its own thread and connection, send an
    operation, wait for its answer, send the next. Prints throughput, errors by kind and latency
    quantiles (nearest rank, over successful operations, in µs); optionally appends a CSV row.

    OPTIONS
      --target URL       resp://HOST:PORT,…  our nodes, over the Redis protocol
                         etcd://HOST:PORT,…  etcd, over its v3 HTTP/JSON gateway
                         numeric IPv4 addresses; client i talks to address i mod count
      --clients N        closed-loop clients (default 16)
      --duration D       how long operations are counted: 10s, 500ms, 2m (default 10s)
      --warmup D         how long clients run before counting starts (default 1s)
      --mix MIX          put, get, cas, append, del, or weights: put=50,get=50 (the default)
      --keys K           keys key:0 … key:K-1, chosen uniformly (default 1000)
      --value-bytes B    bytes of each value put or cas writes and of each appended suffix (default 64)
      --csv FILE         append one row to FILE (a header first if the file is new); columns:
                         target, clients, mix, duration, ops (successful operations), ops_per_s,
                         errors (failed operations), p50_us, p90_us, p99_us, p999_us, max_us
      --preload          write every key once before the run (default: unless the mix is put alone)
      --no-preload       do not
      --seed N           seeds each client's operations, keys and values (default 1)
      --timeout D        the longest wait for one answer or connection (default 10s)
      --etcd-serializable  etcd ranges from the member's own state, not through the leader

    Operations: on our nodes GET, SET, SET k new IFEQ old (cas), APPEND, DEL; on etcd range, put,
    deleterange, txn comparing the value (cas), and append as range + txn guarded by mod_revision,
    retried when another client changed the key in between. A cas expects the value its client
    last read or wrote at the key; one that does not apply is a success, counted apart.

    Exit status: 0 success; 1 when no operation succeeded, or the target cannot be reached at the
    start (the message names the address and the reason); 2 bad input (names the option).
    """

    static func load(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(loadUsage); return 0 }
        let options: LoadOptions
        do throws(LoadInputError) {
            options = try LoadOptions(arguments: arguments)
            if let csv = options.csv { try LoadCSV.prepare(csv) }
        } catch {
            fail("load: \(error.description)")
            return 2
        }
        let result: LoadResult
        do throws(LoadRunFailure) {
            result = try LoadRunner.run(options) { FileHandle.standardError.write(Data("conlab load: \($0)\n".utf8)) }
        } catch {
            fail("load: \(error.description)")
            return 1
        }
        print(result.summary)
        if let csv = options.csv {
            do {
                try LoadCSV.append(result, to: csv)
            } catch {
                fail("load: --csv \(csv): \(error)")
                return 1
            }
        }
        guard result.ok > 0 else {
            fail("load: no operation succeeded")
            return 1
        }
        return 0
    }
}
