/// A scenario the lab refuses to run, with the file, the JSON path of the offending value and why.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// JSON path such as `faults[2].crash`; `$` is the document itself.
    public var path: String
    public var reason: String

    package init(file: String, path: String, reason: String) {
        self.file = file
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(file): \(path): \(reason)" }
}
