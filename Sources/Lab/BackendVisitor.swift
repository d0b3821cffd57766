import ConsensusCore

/// Code generic over the backend type, run with the type a name picks at run time. The simulator
/// gets its type through `BackendKind.make`; a real node process (`conlab serve`) is the other
/// such code, and takes only what a production driver may rely on: `ReplicationBackend`, not
/// the lab's inspection and fault hooks.
public protocol BackendVisitor {
    associatedtype Output
    func visit<Backend: ReplicationBackend>(_ backend: Backend.Type, options: Backend.Options) -> Output
}

/// A backend type bound to its validated options, waiting for a visitor.
protocol BoundBackend: Sendable {
    func accept<V: BackendVisitor>(_ visitor: V) -> V.Output
}

struct Bound<Backend: ReplicationBackend>: BoundBackend {
    let options: Backend.Options

    func accept<V: BackendVisitor>(_ visitor: V) -> V.Output { visitor.visit(Backend.self, options: options) }
}
