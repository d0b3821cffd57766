import ConsensusCore
import Runtime
import Sharding
import Simulator

/// The channel through which the real-process driver (`conlab run --real`) injects faults into a
/// node and reads what the lab compares: a TCP listener of its own on the member's `admin`
/// address, speaking lines of text.
///
/// **Why a channel of its own, gated by the cluster secret.** What it sets — which peers a node's
/// messages reach, its timer rate — is a peer's power over the cluster, so it is proved with the
/// peers' secret, not with the clients' optional password; a port of its own keeps the Redis
/// protocol clients see unchanged, so no client library can stumble on it. Lines of text keep
/// both ends small and a session readable by hand.
///
/// **Authentication.** The node opens with `conlab-admin <nonce>` (32 fresh random bytes, hex);
/// the runner answers `proof <code>`, the HMAC-SHA-256 of "conlab admin" and the nonce under the
/// cluster secret (hex). A wrong proof, or any other first line, closes the connection. The nonce
/// is fresh per connection, so a recorded proof cannot be replayed; a stray process without the
/// secret cannot set anything.
///
/// **Commands** (one line each, answered by one line, `OK [payload]` or `ERR reason`):
///
///     cut [nX …]               messages to these peers are dropped (none: every link restored)
///     drop nX [KIND …]         messages of these kinds to nX are dropped (none: restored)
///     link nX [PROFILE]        frames to nX are delayed, lost, duplicated, reordered as PROFILE
///                              says (`AdminProtocol.words(_:)`); none: sent as they come
///     clock RATE               the backend's clock runs at RATE (1: true time)
///     slow MICROSECONDS        each input costs this much more processing time
///     arm STEP EVENT VALUE     at an event (`sent KIND`, `received KIND`, `role ROLE`,
///                              `committed INDEX`) the node stops itself (`stopIfTriggered`)
///     disarm STEP
///     inject reject PHASE|- N  the backend fails the next N times PHASE (a message kind; -: any
///                              phase) is asked of it (`InjectedFault.reject`)
///     record                   from now on, keep the backend's observations for `events`
///     events FROM              forgets the observations numbered below FROM (the caller has them)
///                              and answers `OK FIRST [JSON]`: the rest, the first numbered FIRST
///                              (numbers count from the process's start, so a lost answer is sent again)
///     state                    the node's applied key-value state (JSON object; null: no replica)
///     buckets                  a shard group's node: `OK` and per bucket, as applied, `serving`,
///                              `leaving:SINCE`, `pulling:SINCE:FROM` or `absent` (`AdminProtocol.word`)
///     decisions                a shard group's node: every cross-shard transaction it decided,
///                              as applied (JSON object: id → true for commit, false for abort)
package enum AdminProtocol {
    package static let greeting = "conlab-admin"
    /// The file in its data directory where a node that stopped at a trigger names the step.
    package static let triggerFile = "trigger"
    /// The file in its data directory with the admin lines a node that stopped at a trigger
    /// carries out as it wakes, before the rest of the step that stopped it.
    package static let wakeFile = "trigger-wake"
    /// How long a node that woke from a trigger waits for that file.
    package static let wakeFileWait = TimeSpan.seconds(1)
    /// The longest line either side accepts; a longer one closes the connection.
    package static let maximumLineBytes = 64 << 20

    /// What the proof's code covers: a label of its own, so no peer-handshake code is ever one.
    package static func provenBytes(nonce: [UInt8]) -> [UInt8] { Array("conlab admin".utf8) + nonce }

    package static func proof(secret: [UInt8], nonce: [UInt8]) -> [UInt8] {
        HMACSHA256(key: secret).code(for: provenBytes(nonce: nonce))
    }

    /// A link profile as `link` carries it: `loss duplicate reorder LATENCY REORDER-DELAY`, a
    /// distribution as `fixed:µs`, `uniform:µs:µs`, `exponential:min-µs:mean-µs` or
    /// `long-tail:median-µs:p99-µs`.
    package static func words(_ profile: LinkProfile) -> [String] {
        [String(profile.loss), String(profile.duplicate), String(profile.reorder), word(profile.latency), word(profile.reorderDelay)]
    }

    package static func profile(_ words: [String]) -> LinkProfile? {
        guard words.count == 5, let loss = Double(words[0]), let duplicate = Double(words[1]), let reorder = Double(words[2]),
              [loss, duplicate, reorder].allSatisfy({ (0...1).contains($0) }),
              let latency = distribution(words[3]), let reorderDelay = distribution(words[4]) else { return nil }
        return LinkProfile(latency: latency, loss: loss, duplicate: duplicate, reorder: reorder, reorderDelay: reorderDelay)
    }

    private static func word(_ distribution: LatencyDistribution) -> String {
        switch distribution {
        case .fixed(let value): "fixed:\(value.microseconds)"
        case .uniform(let range): "uniform:\(range.lowerBound.microseconds):\(range.upperBound.microseconds)"
        case .exponential(let minimum, let mean): "exponential:\(minimum.microseconds):\(mean.microseconds)"
        case .longTail(let median, let p99): "long-tail:\(median.microseconds):\(p99.microseconds)"
        }
    }

    private static func distribution(_ word: String) -> LatencyDistribution? {
        let parts = word.split(separator: ":").map(String.init)
        let values = parts.dropFirst().compactMap { Int64($0) }.map { TimeSpan(microseconds: $0) }
        guard values.count == parts.count - 1, values.allSatisfy({ $0 >= .zero }) else { return nil }
        switch (parts.first, values.count) {
        case ("fixed", 1): return .fixed(values[0])
        case ("uniform", 2) where values[0] <= values[1]: return .uniform(values[0]...values[1])
        case ("exponential", 2): return .exponential(minimum: values[0], mean: values[1])
        case ("long-tail", 2): return .longTail(median: values[0], p99: values[1])
        default: return nil
        }
    }
}

/// Cuts lines out of a byte stream; a line longer than the limit is an error.
package struct LineReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    let limit: Int

    package init(limit: Int = AdminProtocol.maximumLineBytes) { self.limit = limit }

    package mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole line without its newline; nil until one is complete. Throws past the limit.
    package mutating func next() throws(LineTooLong) -> String? {
        guard let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.count - start > limit { throw LineTooLong() }
            return nil
        }
        let line = String(decoding: buffer[start..<end], as: UTF8.self)
        start = end + 1
        return line
    }

    package struct LineTooLong: Error {}
}

extension AdminProtocol {
    /// A bucket's state as `buckets` names it: `serving`, `leaving:SINCE`, `pulling:SINCE:FROM`, `absent`.
    package static func word(_ state: BucketState) -> String {
        switch state {
        case .serving: "serving"
        case .leaving(let since): "leaving:\(since)"
        case .pulling(let since, let from): "pulling:\(since):\(from)"
        case .absent: "absent"
        }
    }

    package static func bucketState(_ word: Substring) -> BucketState? {
        let parts = word.split(separator: ":").map(String.init)
        switch (parts.first, parts.count) {
        case ("serving", 1): return .serving
        case ("absent", 1): return .absent
        case ("leaving", 2): return Int(parts[1]).map { .leaving(since: $0) }
        case ("pulling", 3):
            guard let since = Int(parts[1]), let from = GroupID(name: parts[2]) else { return nil }
            return .pulling(since: since, from: from)
        default: return nil
        }
    }
}
