import ConsensusCore
@testable import Lab
import Testing

/// What `conlab list` prints about each option is true: its default, written as JSON the way a
/// scenario sets it, is accepted and leaves the backend at its defaults.
@Suite struct OptionDocumentationTests {
    @Test(arguments: Backends.all.map(\.name))
    func everyDocumentedDefaultIsTheDefault(backend name: String) throws {
        let backend = try #require(Backends.named(name))
        #expect(!backend.options.isEmpty && !backend.messageKinds.isEmpty)
        for option in backend.options {
            let value = try JSONValue(parsing: option.defaultValue)
            let configured = try backend.configure([(option.name, value)]).get()
            #expect(configured.variant == "", "\(name).\(option.name) = \(option.defaultValue) is not the default")
        }
    }

    @Test(arguments: Backends.external.map(\.name))
    func everyExternalSystemsDocumentedDefaultIsTheDefault(system name: String) throws {
        let backend = try #require(Backends.external.first { $0.name == name })
        for option in backend.options {
            let configured = try backend.configure([(option.name, try JSONValue(parsing: option.defaultValue))]).get()
            #expect(configured.variant == "", "\(name).\(option.name) = \(option.defaultValue) is not the default")
        }
    }

    /// A value other than the default changes the variant: the check above could not pass by
    /// ignoring what it sets.
    @Test func aNonDefaultValueNamesAVariant() throws {
        let raft = try #require(Backends.named("raft"))
        #expect(try raft.configure([("read", .string("lease"))]).get().variant == "read=lease")
    }
}
