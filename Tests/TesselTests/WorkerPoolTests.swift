import Foundation
import Dispatch
import Synchronization
import XCTest
@testable import Tessel

/// `parallelFor` runs on the CPU backend's spinning worker pool, falling back to Dispatch when
/// the pool is busy: every element must be visited exactly once whatever the interleaving.
final class WorkerPoolTests: XCTestCase {
    /// Sums 0..<count through parallelFor, each chunk adding into an atomic.
    private static func parallelSum(_ count: Int, grain: Int) -> Int {
        let total = Atomic<Int>(0)
        parallelFor(count, grain: grain) { range in
            total.add(range.reduce(0, +), ordering: .relaxed)
        }
        return total.load(ordering: .relaxed)
    }

    func testEveryIndexOnceOverManyJobs() {
        for count in [0, 1, 2, 3, 17, 1000, 65_537] {
            for _ in 0..<200 {
                XCTAssertEqual(Self.parallelSum(count, grain: 1), count * (count - 1) / 2, "count \(count)")
            }
        }
    }

    /// Jobs that arrive after the workers went to sleep (past their spin) still run every
    /// chunk exactly once: the caller takes the chunks no worker has claimed yet, and a worker
    /// that wakes late finds them taken (or joins the next job) without running a stale one.
    func testJobsAfterThePoolSleepsRunEveryChunkOnce() {
        for round in 0..<40 {
            if round % 2 == 0 { Thread.sleep(forTimeInterval: 0.001) }
            let count = 3 + round
            let counts = Mutex([Int](repeating: 0, count: count))
            parallelFor(count, grain: 1) { range in
                for i in range { counts.withLock { $0[i] += 1 } }
            }
            XCTAssertEqual(counts.withLock { $0 }, [Int](repeating: 1, count: count), "round \(round)")
        }
    }

    func testNestedCallsFallBackInsteadOfWaiting() {
        let total = Atomic<Int>(0)
        parallelFor(64, grain: 1) { outer in
            for i in outer {
                // The pool is busy with the outer job: this must not wait for it.
                total.add(Self.parallelSum(100, grain: 1) + i, ordering: .relaxed)
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 64 * 4950 + 64 * 63 / 2)
    }

    func testConcurrentCallersFromSeveralThreads() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 6) { caller in
            for round in 0..<300 {
                let count = 1000 + caller * 37 + round
                if Self.parallelSum(count, grain: 1) != count * (count - 1) / 2 { failures.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }

    func testCPUOpsFromSeveralThreadsAgree() throws {
        // Whole tensor ops (GEMM slabs, element-wise, reductions) racing for the pool.
        let a = Tensor.randn([96, 200], device: .cpu), b = Tensor.randn([200, 80], device: .cpu)
        let reference = a.matmul(b).sum(axis: 0).scalars(as: Float.self)
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 where a.matmul(b).sum(axis: 0).scalars(as: Float.self) != reference {
                mismatches.add(1, ordering: .relaxed)
            }
        }
        XCTAssertEqual(mismatches.load(ordering: .relaxed), 0)
    }
}
