import ConsensusCore
import Load
import Runtime
import Testing

@Suite struct LoadOptionsTests {
    static let target = ["--target", "resp://127.0.0.1:7001"]

    @Test func defaults() throws {
        let options = try LoadOptions(arguments: Self.target)
        #expect(options.target == LoadTarget(system: .resp, addresses: [SocketAddress(parsing: "127.0.0.1:7001")!]))
        #expect(options.clients == 16 && options.keys == 1_000 && options.valueBytes == 64 && options.seed == 1)
        #expect(options.duration == .seconds(10) && options.warmup == .seconds(1) && options.timeout == .seconds(10))
        #expect(options.mix.description == "put=50,get=50")
        #expect(options.preloads, "a mix with gets preloads by default")
        #expect(options.csv == nil && !options.etcdSerializable)
    }

    @Test func everyOption() throws {
        let options = try LoadOptions(arguments: ["--target", "etcd://127.0.0.1:2379,127.0.0.1:22379/", "--clients", "64", "--duration", "500ms",
                                                  "--warmup", "0s", "--mix", "put=1,cas=2,append=0", "--keys", "10", "--value-bytes", "4096",
                                                  "--csv", "out.csv", "--no-preload", "--seed", "42", "--timeout", "2s", "--etcd-serializable"])
        #expect(options.target.system == .etcd)
        #expect(options.target.addresses.map(\.description) == ["127.0.0.1:2379", "127.0.0.1:22379"])
        #expect(options.target.address(ofClient: 3).description == "127.0.0.1:22379")
        #expect(options.clients == 64 && options.keys == 10 && options.valueBytes == 4096 && options.seed == 42)
        #expect(options.duration == .milliseconds(500) && options.warmup == .zero && options.timeout == .seconds(2))
        #expect(options.mix.description == "put=1,cas=2", "a weight of 0 leaves the operation out")
        #expect(options.csv == "out.csv" && !options.preloads && options.etcdSerializable)
    }

    @Test func preloadDefaultsToOffForPutsAlone() throws {
        #expect(try !LoadOptions(arguments: Self.target + ["--mix", "put"]).preloads)
        #expect(try LoadOptions(arguments: Self.target + ["--mix", "put", "--preload"]).preloads)
        #expect(try LoadOptions(arguments: Self.target + ["--mix", "append"]).preloads)
    }

    /// Each mistake is refused naming the option, with the reason.
    @Test(arguments: [
        ([], "--target", "required"),
        (["--target", "http://127.0.0.1:2379"], "--target", "resp:// or etcd://"),
        (["--target", "resp://"], "--target", "names no address"),
        (["--target", "resp://localhost:7001"], "--target", "not an IPv4 address"),
        (["--target", "resp://127.0.0.1:7001,,127.0.0.1:7002"], "--target", "not an IPv4 address"),
        (["--target", "resp://127.0.0.1"], "--target", "not an IPv4 address"),
        (["--target", "resp://127.0.0.1:0"], "--target", "port 0"),
        (target + ["--clients", "0"], "--clients", "1…4096"),
        (target + ["--clients", "many"], "--clients", "not an integer"),
        (target + ["--duration", "10"], "--duration", "not a duration"),
        (target + ["--duration", "0s"], "--duration", "longer than 0"),
        (target + ["--warmup", "-1s"], "--warmup", "not a duration"),
        (target + ["--timeout", "0ms"], "--timeout", "longer than 0"),
        (target + ["--mix", "write"], "--mix", "not an operation"),
        (target + ["--mix", "put=50,get"], "--mix", "not an operation"),
        (target + ["--mix", "put=x"], "--mix", "weight of put"),
        (target + ["--mix", "put=-1"], "--mix", "weight of put"),
        (target + ["--mix", "put=1,put=2"], "--mix", "given twice"),
        (target + ["--mix", "put=0,get=0"], "--mix", "no operation a positive weight"),
        (target + ["--keys", "0"], "--keys", "1…100000000"),
        (target + ["--value-bytes", "0"], "--value-bytes", "1…1048576"),
        (target + ["--value-bytes", "2000000"], "--value-bytes", "1…1048576"),
        (target + ["--seed", "-3"], "--seed", "not a seed"),
        (target + ["--csv", ""], "--csv", "empty path"),
        (target + ["--csv", "--preload"], "--csv", "found the option '--preload'"),
        (target + ["--clients"], "--clients", "needs a value"),
        (target + ["--clients", "1", "--clients", "2"], "--clients", "more than once"),
        (target + ["--preload", "--no-preload"], "--preload", "contradict"),
        (target + ["--etcd-serializable"], "--etcd-serializable", "etcd:// target only"),
        (target + ["--client", "4"], "--client", "unknown option"),
    ] as [([String], String, String)])
    func badInputNamesTheOption(arguments: [String], option: String, reason: String) {
        do throws(LoadInputError) {
            _ = try LoadOptions(arguments: arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(error.option == option, "\(arguments): \(error)")
            #expect(error.description.hasPrefix("\(option): ") && error.reason.contains(reason), "\(arguments): \(error)")
        }
    }

    @Test func aStrayArgument() {
        #expect(throws: LoadInputError(nil, "unexpected argument 'extra'")) { try LoadOptions(arguments: Self.target + ["extra"]) }
    }
}
