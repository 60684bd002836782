import CTesselCPU
import Foundation
import Synchronization

/// The CPU backend's worker threads: created once, they spin for a short while after each job
/// before going to sleep, as OpenBLAS's threads do.
///
/// Why not Dispatch alone: `concurrentPerform` hands work to parked threads, and waking one
/// cost tens of microseconds per call here (a 128x784x128 product took 0.34 ms that way and
/// 0.19 ms on this pool). A job that arrives while the workers still spin starts at once.
///
/// One job runs at a time. A second caller (another thread, or a job body that calls
/// `parallelFor` itself) does not wait for the pool: `run` returns false and the caller runs
/// its job alone, so the threads at work never outnumber the pool's plus its callers.
final class WorkerPool: @unchecked Sendable {
    // Unchecked: `body` and `chunks` are written only by the thread that holds `submitting`,
    // before it publishes the job by bumping `generation` (release); workers read them after
    // seeing the new generation (acquire), and the submitter clears `body` only after every
    // worker has reported back through `remaining`.

    /// The pool for `cpuCoreCount` threads (the caller is one of them).
    static let shared = WorkerPool(workers: cpuCoreCount - 1)

    /// How long a worker spins for the next job before sleeping: long enough to cover the
    /// serial work between two ops of a training step, short enough not to hold a core.
    private static let spinNanoseconds: UInt64 = 200_000

    let workers: Int
    private let submitting = Mutex(false)
    /// Bumped once per job.
    private let generation = Atomic<Int>(0)
    /// Threads (workers and submitter) that have not finished their chunk of the current job.
    private let remaining = Atomic<Int>(0)
    private let wake = NSCondition()
    private var body: ((Int) -> Void)?
    private var chunks = 0
    /// The workers' thread identities (`pthread_self`), as each registers when it starts.
    let threadIDs = Mutex<Set<UInt>>([])

    private init(workers: Int) {
        self.workers = Swift.max(0, workers)
        for worker in 0..<self.workers {
            let thread = Thread { [unowned self] in self.work(chunk: worker + 1) }
            thread.name = "tessel-cpu-\(worker + 1)"
            thread.start()
        }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` (at most `workers + 1`; chunk 0 on the
    /// calling thread) and returns when all are done; or returns false at once, running
    /// nothing, when the pool is busy with another job.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        check(chunks <= workers + 1, "WorkerPool: \(chunks) chunks for \(workers + 1) threads")
        let claimed = submitting.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
        guard claimed else { return false }
        defer { submitting.withLock { $0 = false } }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.chunks = chunks
            remaining.store(workers + 1, ordering: .relaxed)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            body(0)
            remaining.subtract(1, ordering: .releasing)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                // A worker descheduled by another process: let it have the core.
                if spins % 4096 == 0 { sched_yield() } else { tessel_spin_pause() }
            }
            self.body = nil
        }
        return true
    }

    private func work(chunk: Int) {
        threadIDs.withLock { _ = $0.insert(UInt(pthread_self())) }
        var seen = 0
        while true {
            seen = waitForJob(after: seen)
            // Every worker reports back, with or without a chunk of its own.
            if chunk < chunks, let body { body(chunk) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Spins, then sleeps, until the generation moves past `seen`; returns the new one.
    private func waitForJob(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
        var checks = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            checks += 1
            if checks % 256 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
            tessel_spin_pause()
        }
        // The check and the wait hold the lock the submitter bumps the generation under, so a
        // job published in between cannot be missed.
        wake.lock()
        defer { wake.unlock() }
        while generation.load(ordering: .acquiring) == seen { wake.wait() }
        return generation.load(ordering: .acquiring)
    }
}
