import CTesselCPU
import Foundation
import Synchronization

/// The CPU backend's worker threads: created once, they spin for a short while after each job
/// before going to sleep, as OpenBLAS's threads do.
///
/// Why not Dispatch alone: `concurrentPerform` hands work to parked threads, and waking one
/// cost tens of microseconds per call here (a 128x784x128 product took 0.34 ms that way and
/// 0.19 ms on this pool). A job that arrives while the workers still spin starts at once; one
/// that arrives while they sleep starts on the calling thread, which takes the chunks no
/// worker has claimed yet.
///
/// One job runs at a time. A second caller (another thread, or a job body that calls
/// `parallelFor` itself) does not wait for the pool: `run` returns false and the caller runs
/// its job alone, so the threads at work never outnumber the pool's plus its callers.
final class WorkerPool: @unchecked Sendable {
    // Unchecked: `body` is written only by the thread that holds `submitting`, before it
    // publishes the job (the claim word, release; then the generation); a worker reads it only
    // after claiming a chunk of that job (acquire), and the submitter clears it only after every
    // claimed chunk has reported back through `finished`.

    /// The pool for `cpuCoreCount` threads (the caller is one of them).
    static let shared = WorkerPool(workers: cpuCoreCount - 1)

    /// How long a worker spins for the next job before sleeping: long enough to cover the
    /// serial work between two ops of a training step, short enough not to hold a core.
    private static let spinNanoseconds: UInt64 = 200_000

    let workers: Int
    private let submitting = Mutex(false)
    /// Bumped once per job.
    private let generation = Atomic<Int>(0)
    /// The current job's chunks: its generation (low 32 bits of it) in bits 32-63, its chunk
    /// count in bits 16-31 and the next chunk nobody has claimed in bits 0-15. Chunks are
    /// claimed, not assigned: the submitter takes them too, so a worker that is still waking
    /// (hundreds of microseconds in a virtual machine after a pause) delays nothing.
    private let claims = Atomic<UInt64>(0)
    /// Chunks of the current job that have finished.
    private let finished = Atomic<Int>(0)
    private let wake = NSCondition()
    private var body: ((Int) -> Void)?
    /// The workers' thread identities (`pthread_self`), as each registers when it starts.
    let threadIDs = Mutex<Set<UInt>>([])

    private init(workers: Int) {
        self.workers = Swift.max(0, workers)
        for worker in 0..<self.workers {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "tessel-cpu-\(worker + 1)"
            thread.start()
        }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` (at most `workers + 1`), on the
    /// calling thread and whichever workers claim one first, and returns when all are done; or
    /// returns false at once, running nothing, when the pool is busy with another job.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        check(chunks <= workers + 1 && chunks < 1 << 16, "WorkerPool: \(chunks) chunks for \(workers + 1) threads")
        let claimed = submitting.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
        guard claimed else { return false }
        defer { submitting.withLock { $0 = false } }
        withoutActuallyEscaping(body) { body in
            self.body = body
            finished.store(0, ordering: .relaxed)
            let job = Self.job(generation.load(ordering: .relaxed) + 1)
            claims.store(job << 32 | UInt64(chunks) << 16, ordering: .releasing)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
            while let chunk = claim(job) {
                body(chunk)
                finished.add(1, ordering: .releasing)
            }
            var spins = 0
            while finished.load(ordering: .acquiring) < chunks {
                spins += 1
                // A worker descheduled by another process: let it have the core.
                if spins % 4096 == 0 { sched_yield() } else { tessel_spin_pause() }
            }
            self.body = nil
        }
        return true
    }

    /// The claim word's job tag for a generation.
    private static func job(_ generation: Int) -> UInt64 { UInt64(truncatingIfNeeded: generation) & 0xFFFF_FFFF }

    /// The next unclaimed chunk of job `job`, or nil when every chunk is taken or another job
    /// has replaced it.
    private func claim(_ job: UInt64) -> Int? {
        var word = claims.load(ordering: .acquiring)
        while true {
            let count = Int((word >> 16) & 0xFFFF), next = Int(word & 0xFFFF)
            guard word >> 32 == job, next < count else { return nil }
            let (exchanged, current) = claims.compareExchange(expected: word, desired: word + 1,
                                                              successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
            if exchanged { return next }
            word = current
        }
    }

    private func work() {
        threadIDs.withLock { _ = $0.insert(UInt(pthread_self())) }
        var seen = 0
        while true {
            seen = waitForJob(after: seen)
            // Chunks of the job it woke for; none if the submitter (or another worker) took them.
            let job = Self.job(seen)
            while let chunk = claim(job) {
                body?(chunk)
                finished.add(1, ordering: .releasing)
            }
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
