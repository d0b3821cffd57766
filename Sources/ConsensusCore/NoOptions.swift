/// Options of a backend that has none.
public struct NoOptions: BackendOptions {
    public init() {}
    public static let documentation: [OptionDoc] = []
    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        throw OptionError.unknown(name, known: Self.documentation)
    }
}
