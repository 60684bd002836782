import Dispatch
import Foundation

/// Splits `0..<count` into chunks of at least `grain` items and runs them on all cores.
///
/// Small work stays on the calling thread: waking a second core costs microseconds, which is
/// more than an element-wise op on a few thousand floats takes.
func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let workers = Swift.min(cpuCoreCount, count / Swift.max(grain, 1))
    let chunk = (count + Swift.max(workers, 1) - 1) / Swift.max(workers, 1)
    func runChunk(_ worker: Int) {
        let start = worker * chunk
        let end = Swift.min(start + chunk, count)
        if start < end { body(start..<end) }
    }
    // The pool's spinning workers start at once. Small work, and work that finds the pool busy
    // (a nested call, or another thread's op), runs whole on the calling thread: the pool's
    // threads already hold every core, and handing chunks to more threads (Dispatch's) would
    // only oversubscribe them. `body` has exactly two call sites (here and in `runChunk`): a
    // third kept the optimiser from inlining element-wise loops into it (an add ran 2x slower).
    if workers > 1 && WorkerPool.shared.run(chunks: workers, runChunk) { return }
    if count > 0 { body(0..<count) }
}

/// Threads the CPU backend spreads large work over: `TESSEL_CPU_THREADS`, else every core.
let cpuCoreCount: Int = {
    if let text = ProcessInfo.processInfo.environment["TESSEL_CPU_THREADS"], let threads = Int(text), threads > 0 {
        return threads
    }
    return ProcessInfo.processInfo.activeProcessorCount
}()
