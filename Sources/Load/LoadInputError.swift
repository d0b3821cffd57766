/// A command line `conlab load` cannot run: names the option and the reason (exit status 2).
public struct LoadInputError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The option at fault (`--clients`), or `nil` for a stray argument.
    public var option: String?
    public var reason: String

    public init(_ option: String?, _ reason: String) {
        self.option = option
        self.reason = reason
    }

    public var description: String { option.map { "\($0): \(reason)" } ?? reason }
}
