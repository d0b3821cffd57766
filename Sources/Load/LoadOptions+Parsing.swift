import ConsensusCore

extension LoadOptions {
    /// The options that take a value, and the flags.
    static let valued: Set<String> = ["--target", "--clients", "--duration", "--warmup", "--mix", "--keys", "--value-bytes",
                                      "--csv", "--seed", "--timeout"]
    static let flags: Set<String> = ["--preload", "--no-preload", "--etcd-serializable"]

    /// Parses `conlab load`'s arguments (after `load`). Every mistake names its option: an unknown
    /// one, a missing or repeated value, a value that is itself an option (`--csv --preload` forgot
    /// the file), a value out of range.
    public init(arguments: [String]) throws(LoadInputError) {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if Self.flags.contains(argument) {
                guard flags.insert(argument).inserted else { throw LoadInputError(argument, "given more than once") }
            } else if Self.valued.contains(argument) {
                guard index < arguments.count else { throw LoadInputError(argument, "needs a value") }
                let value = arguments[index]
                guard !value.hasPrefix("--") else { throw LoadInputError(argument, "needs a value, found the option '\(value)'") }
                guard values.updateValue(value, forKey: argument) == nil else { throw LoadInputError(argument, "given more than once") }
                index += 1
            } else if argument.hasPrefix("-") {
                throw LoadInputError(argument, "unknown option (conlab load --help lists them)")
            } else {
                throw LoadInputError(nil, "unexpected argument '\(argument)'")
            }
        }
        guard let target = values["--target"] else {
            throw LoadInputError("--target", "required: resp://HOST:PORT,… (our nodes) or etcd://HOST:PORT,… (etcd)")
        }
        self.init(target: try LoadTarget(parsing: target))
        if let text = values["--clients"] { clients = try Self.integer(text, option: "--clients", in: 1...4_096) }
        if let text = values["--duration"] { duration = try Self.span(text, option: "--duration", positive: true) }
        if let text = values["--warmup"] { warmup = try Self.span(text, option: "--warmup", positive: false) }
        if let text = values["--timeout"] { timeout = try Self.span(text, option: "--timeout", positive: true) }
        if let text = values["--mix"] { mix = try OperationMix(parsing: text) }
        if let text = values["--keys"] { keys = try Self.integer(text, option: "--keys", in: 1...100_000_000) }
        if let text = values["--value-bytes"] { valueBytes = try Self.integer(text, option: "--value-bytes", in: 1...(1 << 20)) }
        if let text = values["--seed"] {
            guard let seed = UInt64(text) else { throw LoadInputError("--seed", "'\(text)' is not a seed (a non-negative integer)") }
            self.seed = seed
        }
        if let path = values["--csv"] {
            guard !path.isEmpty else { throw LoadInputError("--csv", "an empty path") }
            csv = path
        }
        if flags.contains("--preload") && flags.contains("--no-preload") {
            throw LoadInputError("--preload", "and --no-preload contradict each other; give one")
        }
        if flags.contains("--preload") { preload = true }
        if flags.contains("--no-preload") { preload = false }
        if flags.contains("--etcd-serializable") {
            guard self.target.system == .etcd else { throw LoadInputError("--etcd-serializable", "applies to an etcd:// target only") }
            etcdSerializable = true
        }
    }

    private static func integer(_ text: String, option: String, in range: ClosedRange<Int>) throws(LoadInputError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw LoadInputError(option, "'\(text)' is not an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    private static func span(_ text: String, option: String, positive: Bool) throws(LoadInputError) -> TimeSpan {
        let span: TimeSpan
        do throws(TimeSpanError) { span = try TimeSpan.parse(bounded: text) } catch { throw LoadInputError(option, error.description) }
        guard !positive || span > .zero else { throw LoadInputError(option, "must be longer than 0") }
        return span
    }
}
