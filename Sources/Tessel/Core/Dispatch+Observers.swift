extension Tensor {
    /// Runs `body` with `observer` seeing every op that reaches the entry point in this task
    /// (and the tasks it starts), after any observer already installed. Other tasks' ops are
    /// never shown to it: an inference server's requests do not reach a training loop's tape.
    public static func observingOps<R>(_ observer: any OpObserver, _ body: () throws -> R) rethrows -> R {
        let installed: any OpObserver = Dispatch.observer.map { ChainedObservers(first: $0, second: observer) } ?? observer
        return try Dispatch.$observer.withValue(installed, operation: body)
    }
}

/// Two observers, shown each op in turn.
private struct ChainedObservers: OpObserver {
    let first: any OpObserver
    let second: any OpObserver

    func record(_ record: OpRecord) {
        first.record(record)
        second.record(record)
    }
}
