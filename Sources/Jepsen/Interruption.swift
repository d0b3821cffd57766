import Dispatch
import Foundation
import Glibc
import Server

/// `conlab run --real` interrupted (Ctrl-C, SIGTERM): every process the run started (our nodes,
/// etcd, redis-server, redis-sentinel) is killed and every network namespace it built removed
/// before conlab exits with 128 + the signal's number, as they would be at a run's end. The
/// processes run in process groups of their own, so a Ctrl-C at the terminal reaches conlab
/// alone; without this, etcd and Redis would outlive it.
public enum Interruption {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Installs the handlers (once is enough; later calls add nothing).
    public static func stopEverythingOnSignals() {
        guard sources.isEmpty else { return }
        for number in [SIGINT, SIGTERM] {
            // Taken off the default action so that the dispatch source, not the kernel, handles it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let processes = SpawnedProcesses.killAll(), namespaces = NamespaceNetwork.removeAll()
                let removed = namespaces > 0 ? " and removed \(namespaces) network namespaces" : ""
                FileHandle.standardError.write(Data("conlab: interrupted; stopped \(processes) processes it had started\(removed)\n".utf8))
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
