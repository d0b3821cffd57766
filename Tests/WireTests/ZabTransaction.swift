import Zab

/// ZAB's log entry, named apart from AtomicCommit's `Transaction` (the module and the backend share the name `Zab`).
typealias ZabTransaction = Transaction
