import Foundation
import Synchronization
import XCTest
@testable import Tessel

/// Tensors used from many tasks and threads at once: results stay right, reads do not hold the
/// cooperative pool, concurrent CPU callers do not bring in more threads, memory stays flat.
final class ConcurrencyTests: XCTestCase {
    final class Counter: Sendable { let value = Atomic<Int>(0) }

    /// Eight tasks run different ops on each device at once; each checks its result against
    /// the same computation done alone beforehand.
    func testEightConcurrentTasksOnEachDevice() async {
        for device in conformanceDevices() {
            let x = Tensor.randn([64, 96], generator: Generator(seed: 1), device: device)
            let w = Tensor.randn([96, 32], generator: Generator(seed: 2), device: device)
            let jobs: [@Sendable () -> Tensor] = [
                { x.matmul(w).relu().sum(axis: 0) },
                { (x * 2 + 1).exp().mean(axis: 1) },
                { x.softmax(axis: -1).max(axis: 1) },
                { x.T.contiguous().sum(axis: 1) },
                { x.argsort(axis: 1).cast(.float32).sum(axis: 0) },
                { x.cumsum(axis: 1)[.all, -1] },
                { Tensor.cat([x, x], axis: 0).logSumExp(axis: 0) },
                { var y = x.clone(); y += x; y *= 0.5; return y.sum(axis: 0) },
            ]
            let expected = jobs.map { $0().scalars(as: Float.self) }
            let mismatches = Counter()
            await withTaskGroup(of: Void.self) { group in
                for (index, job) in jobs.enumerated() {
                    group.addTask {
                        for _ in 0..<20 where await job().scalarsAsync(as: Float.self) != expected[index] {
                            mismatches.value.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            XCTAssertEqual(mismatches.value.load(ordering: .relaxed), 0, "[\(device)] concurrent results differ from the sequential ones")
        }
    }

    func testAsyncReadsWaitOnTheDeviceReaderQueue() async throws {
        for device in conformanceDevices() where device != .cpu {
            let x = Tensor.randn([256, 256], device: device)
            let values = await x.matmul(x).sum(axis: 0).scalarsAsync(as: Float.self)
            XCTAssertEqual(values, x.matmul(x).sum(axis: 0).scalars(as: Float.self), "[\(device)]")
            let ranOn = await withCheckedContinuation { continuation in
                DeviceReaders.queue(for: device).async { continuation.resume(returning: DeviceReaders.currentReaderDevice) }
            }
            XCTAssertEqual(ranOn, device, "[\(device)] the reader queue is the device's")
            XCTAssertNil(DeviceReaders.currentReaderDevice, "the test itself is not on a reader queue")
        }
    }

    /// Concurrent callers of CPU ops run their chunks on their own threads or the pool's, never
    /// on extra Dispatch threads that would oversubscribe the cores.
    func testConcurrentCPUCallersDoNotBringInMoreThreads() {
        final class Threads: Sendable {
            let callers = Mutex(Set<UInt>())
            let ranChunks = Mutex(Set<UInt>())
        }
        let threads = Threads()
        let done = DispatchGroup()
        for _ in 0..<4 {
            done.enter()
            Thread {
                threads.callers.withLock { _ = $0.insert(UInt(pthread_self())) }
                for _ in 0..<100 {
                    parallelFor(1 << 16, grain: 1024) { _ in
                        threads.ranChunks.withLock { _ = $0.insert(UInt(pthread_self())) }
                    }
                }
                done.leave()
            }.start()
        }
        done.wait()
        let allowed = threads.callers.withLock { $0 }.union(WorkerPool.shared.threadIDs.withLock { $0 })
        let ran = threads.ranChunks.withLock { $0 }
        XCTAssertFalse(ran.isEmpty)
        XCTAssertTrue(ran.isSubset(of: allowed), "\(ran.subtracting(allowed).count) threads outside the callers and the pool ran chunks")
    }

    /// A fixed small computation repeated: after the first iterations the pool reuses its
    /// blocks, so neither the device allocations nor the active bytes grow.
    func testRepeatedComputationKeepsMemoryFlat() throws {
        for device in conformanceDevices() {
            let backend = try device.backend()
            let w = Tensor.randn([100, 10], device: device), b = Tensor.zeros([10], device: device)
            var parameters = w.clone()
            func step(_ x: Tensor) {
                let logits = x.matmul(parameters) + b
                let loss = logits.logSoftmax(axis: -1).mean()
                parameters -= logits.sum(axis: 0) * Float(0.0001) * loss
            }
            let x = Tensor.rand([32, 100], device: device)
            for _ in 0..<20 { step(x) }
            _ = parameters.scalars(as: Float.self)
            let before = backend.memoryStats
            for _ in 0..<1000 { step(x) }
            _ = parameters.scalars(as: Float.self)
            let after = backend.memoryStats
            XCTAssertEqual(after.deviceAllocations, before.deviceAllocations, "[\(device)] new device allocations in steady state")
            XCTAssertEqual(after.activeBytes, before.activeBytes, "[\(device)] active bytes grew")
            XCTAssertGreaterThan(after.reuses, before.reuses + 1000, "[\(device)] the steps reused pooled blocks")
        }
    }
}
