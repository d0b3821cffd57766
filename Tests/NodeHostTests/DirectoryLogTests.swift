import ConsensusCore
import Foundation
import NodeHost
import Storage
import Testing
import Unreplicated

/// A node hosted on a real directory, as a runtime process runs it: what a restart finds after a
/// clean sync, after writes that were never synced, after a torn tail and after a corrupt record.
@Suite struct DirectoryLogTests {
    typealias Log = DirectoryLog<Unreplicated.Entry, Unreplicated.HardState>
    typealias Host = NodeHost<Unreplicated, Log, String>

    static let server = NodeID(1)

    /// A fresh directory under the system's temporary directory, removed by `body`'s end.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "conlab-nodehost-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    static func host(_ path: String) -> Host {
        Host(id: server, cluster: [server], options: .init(), storage: Log(directory: path), waitsForDisk: true)
    }

    static func put(_ key: String, _ value: String, sequence: UInt64) -> Input<Unreplicated.Message> {
        .client(ClientRequest(client: ClientID(7), sequence: sequence, command: .put(key: key, value: value)))
    }

    /// Steps a put and holds its reply, as a driver does while the write is not durable.
    static func write(_ host: inout Host, _ key: String, _ value: String, sequence: UInt64) throws {
        try host.step(put(key, value, sequence: sequence), at: .zero)
        #expect(host.wrote && host.mustHold, "a write's reply waits for the disk")
        host.hold("reply \(sequence)")
    }

    /// A started host on `path` that wrote and synced `count` puts (keys k1…).
    static func syncedHost(_ path: String, puts count: Int) throws -> Host {
        var host = Self.host(path)
        _ = try host.start(seed: 1)
        for sequence in 1...count { try write(&host, "k\(sequence)", "v", sequence: UInt64(sequence)) }
        try host.release(try #require(host.seal()), incarnation: host.incarnation) { _ in }
        return host
    }

    @Test func aReleasedWriteSurvivesARestartAndItsReplyLeavesOnlyThen() throws {
        try Self.withDirectory { path in
            var host = Self.host(path)
            _ = try host.start(seed: 1)
            try Self.write(&host, "a", "1", sequence: 1)
            try Self.write(&host, "b", "2", sequence: 2)
            let mark = try #require(host.seal())
            #expect(host.storage.unsyncedCount == 2)
            // Group commit: one sync releases both replies, oldest first.
            var released: [String] = []
            try host.release(mark, incarnation: host.incarnation) { released.append($0) }
            #expect(released == ["reply 1", "reply 2"])
            #expect(host.storage.unsyncedCount == 0 && !host.mustHold)
            try host.storage.close()

            var restarted = Self.host(path)
            let recovered = try restarted.start(seed: 1)
            #expect(recovered.entries.map(\.request.command) == [.put(key: "a", value: "1"), .put(key: "b", value: "2")])
            #expect(restarted.backend?.store.data == ["a": "1", "b": "2"])
        }
    }

    @Test func aCrashDropsExactlyTheRepliesThatWaitedForUnsyncedWrites() throws {
        try Self.withDirectory { path in
            var host = try Self.syncedHost(path, puts: 1)
            try Self.write(&host, "b", "2", sequence: 2)
            let (lost, dropped) = host.crash()
            #expect(lost == 1 && dropped == ["reply 2"])
        }
    }

    @Test func aTornTailIsCutAndReportedAndTheSyncedPrefixRecovered() throws {
        try Self.withDirectory { path in
            let host = try Self.syncedHost(path, puts: 1)
            try host.storage.close()
            let segment = try Self.onlySegment(path)
            let handle = try #require(FileHandle(forWritingAtPath: segment))
            handle.seekToEndOfFile()
            handle.write(Data([0x40, 0x00, 0x00, 0x00, 0x01, 0x02]))  // half a record
            handle.closeFile()

            var restarted = Self.host(path)
            let recovered = try restarted.start(seed: 1)
            #expect(recovered.entries.count == 1)
            #expect(restarted.storage.lastRecovery?.droppedBytes == 6)
            #expect(restarted.storage.lastRecovery?.tornFile == segment)
        }
    }

    @Test func aCorruptRecordInTheMiddleRefusesToStartNamingFileAndOffset() throws {
        try Self.withDirectory { path in
            let host = try Self.syncedHost(path, puts: 3)
            try host.storage.close()
            let segment = try Self.onlySegment(path)
            var bytes = try #require(FileManager.default.contents(atPath: segment))
            bytes[bytes.count / 3] ^= 0x10  // inside the first records, not the tail
            try bytes.write(to: URL(fileURLWithPath: segment))

            var restarted = Self.host(path)
            do throws(StorageError) {
                _ = try restarted.start(seed: 1)
                Issue.record("a log with a corrupt record in the middle started")
            } catch {
                guard case .corruptRecord(let file, let offset, _) = error else {
                    Issue.record("expected a corrupt record, got \(error)")
                    return
                }
                #expect(file == segment && offset >= 0 && offset < bytes.count)
            }
            #expect(!restarted.isUp, "the node stays down rather than start with silently truncated data")
        }
    }

    static func onlySegment(_ path: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".log") }.sorted()
        try #require(names.count == 1, "one segment in \(names)")
        return path + "/" + names[0]
    }
}
