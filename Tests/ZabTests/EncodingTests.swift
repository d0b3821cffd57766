import ConsensusCore
import Testing
import Zab

/// What ZAB stores: transactions and the two epochs, encoded so that a bad record is an error.
@Suite struct EncodingTests {
    @Test func transactionRoundTrips() throws {
        let transaction = Transaction(zxid: Zxid(epoch: 3, counter: 17), stamp: .zero + .milliseconds(250),
                                      request: ClientRequest(client: ClientID(4), sequence: 9, command: .cas(key: "k", expected: nil, value: "v"),
                                                             ackedThrough: 7, established: true))
        var writer = ByteWriter()
        transaction.encode(to: &writer)
        var reader = ByteReader(writer.bytes)
        #expect(try Transaction(from: &reader) == transaction)
        #expect(reader.isAtEnd)
        var short = ByteReader(Array(writer.bytes.dropLast(3)))
        #expect(throws: BinaryDecodingError.self) { try Transaction(from: &short) }
    }

    @Test func epochStateRoundTripsAndRejectsACurrentEpochAboveTheAcceptedOne() throws {
        let state = EpochState(acceptedEpoch: 5, currentEpoch: 4)
        var writer = ByteWriter()
        state.encode(to: &writer)
        var reader = ByteReader(writer.bytes)
        #expect(try EpochState(from: &reader) == state)
        var bad = ByteWriter()
        EpochState(acceptedEpoch: 2, currentEpoch: 3).encode(to: &bad)
        var badReader = ByteReader(bad.bytes)
        #expect(throws: BinaryDecodingError.invalid("epoch state (current epoch 3 above accepted epoch 2)", offset: 0)) { try EpochState(from: &badReader) }
    }

    @Test func optionsParseAndRejectBadValues() throws {
        var options = ZabOptions()
        try options.set("read", to: .string("sync"))
        try options.set("tickTime", to: .string("50ms"))
        try options.set("syncLimit", to: .number(3))
        #expect(options.read == .sync && options.syncTimeout == .milliseconds(150) && options.pingInterval == .milliseconds(25))
        #expect(throws: OptionError.self) { try options.set("read", to: .string("linearizable")) }
        #expect(throws: OptionError.self) { try options.set("snapCount", to: .number(1)) }
        #expect(throws: OptionError("snapshotChunk", "must be at least 1, found 0")) { try options.set("snapshotChunk", to: .number(0)) }
        #expect(throws: OptionError.self) { try options.set("finalizeWait", to: .string("0ms")) }
        #expect(throws: OptionError.self) { try options.set("electionAlg", to: .number(3)) }
        #expect(ZabOptions.documentation.map(\.name) == ["read", "tickTime", "initLimit", "syncLimit", "finalizeWait", "maxNotificationInterval", "snapCount", "commitLogCount",
                                                         "snapshotChunk", "bug", "sessionTimeout", "sessionResults"])
    }
}
