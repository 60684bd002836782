import Dispatch
import Foundation

/// Splits `0..<count` into chunks of at least `grain` items and runs them on all cores.
///
/// Small work stays on the calling thread: waking a second core costs microseconds, which is
/// more than an element-wise op on a few thousand floats takes.
func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let workers = Swift.min(cpuCoreCount, count / Swift.max(grain, 1))
    if workers <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + workers - 1) / workers
    func runChunk(_ worker: Int) {
        let start = worker * chunk
        let end = Swift.min(start + chunk, count)
        if start < end { body(start..<end) }
    }
    // The pool's spinning workers start at once. When it is busy (a nested call, or another
    // thread's op) the caller does the whole job itself: the pool's threads already hold every
    // core, and handing chunks to more threads (Dispatch's) would only oversubscribe them.
    if WorkerPool.shared.run(chunks: workers, runChunk) { return }
    body(0..<count)
}

/// Threads the CPU backend spreads large work over: `TESSEL_CPU_THREADS`, else every core.
let cpuCoreCount: Int = {
    if let text = ProcessInfo.processInfo.environment["TESSEL_CPU_THREADS"], let threads = Int(text), threads > 0 {
        return threads
    }
    return ProcessInfo.processInfo.activeProcessorCount
}()
