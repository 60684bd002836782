import Foundation
import Synchronization
import Tessel
import TesselData
import XCTest
@testable import TesselServe

/// The queue's semantics with a controllable model: a gate the test opens holds the device
/// busy, and the model records what it saw. No test asserts a speed; the only clock bounds are
/// lower bounds the queue must respect (a batch never forms before its delay is up).
final class BatchingQueueTests: XCTestCase {
    /// Blocks the model until opened (the device is "busy").
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        func wait() { semaphore.wait() }
        func open(_ count: Int = 1000) { for _ in 0..<count { semaphore.signal() } }
    }

    /// What the model saw: each batch's first-column values, and the device.
    final class Log: Sendable {
        let batches = Mutex<[(device: Device, firsts: [Float])]>([])
        var all: [(device: Device, firsts: [Float])] { batches.withLock { $0 } }
    }

    /// A queue of rows [2] whose model doubles them; `gate` (if any) holds every batch that
    /// contains a value >= 1000 until it opens; negative values make the model throw.
    private func makeQueue(_ configuration: BatchingConfiguration, devices: [Device] = [.cpu], gate: Gate? = nil,
                           log: Log = Log(), delay: Double = 0) -> BatchingQueue {
        BatchingQueue(devices: devices, inputShape: [2], configuration: configuration) { device in
            return { batch in
                let values = batch.toArray()
                let firsts = stride(from: 0, to: values.count, by: 2).map { values[$0] }
                log.batches.withLock { $0.append((device, firsts)) }
                if firsts.contains(where: { $0 < 0 }) { throw ServeError.badInput("negative input") }
                if firsts.contains(where: { $0 >= 1000 }) { gate?.wait() }
                if delay > 0 { Thread.sleep(forTimeInterval: delay) }
                return batch * 2
            }
        }
    }

    private struct Model: Error {}

    private func waitUntil(_ condition: @escaping () -> Bool, file: StaticString = #filePath, line: UInt = #line) async {
        for _ in 0..<1000 where !condition() { try? await Task.sleep(for: .milliseconds(5)) }
        XCTAssertTrue(condition(), "timed out waiting", file: file, line: line)
    }

    func testFlushesWhenFullWithoutWaitingForTheDelay() async throws {
        let log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 4, maxDelay: .seconds(30)), log: log)
        try await queue.start()
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: [Float].self) { group in
            for i in 0..<4 { group.addTask { try await queue.predict([Float(i), 1]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), "a full batch does not wait for its delay")
        XCTAssertEqual(Set(results.map { $0[0] }), [0, 2, 4, 6])
        XCTAssertEqual(queue.stats.batchSizes, [4: 1])
        XCTAssertTrue(log.all.allSatisfy { $0.firsts.count == 4 || $0.firsts.count == 1 }, "warm-up batches are 1 and 4")
        await queue.shutdown()
    }

    func testALoneRequestWaitsItsDelayThenRunsAlone() async throws {
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 64, maxDelay: .milliseconds(150)))
        try await queue.start()
        let started = ContinuousClock.now
        let result = try await queue.predict([3, 4])
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(150) - queue.configuration.wakeUpAllowance)
        XCTAssertEqual(result, [6, 8])
        XCTAssertEqual(queue.stats.batchSizes, [1: 1])
        await queue.shutdown()
    }

    func testAThousandConcurrentCallersEachGetTheirOwnRow() async throws {
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 32, maxDelay: .milliseconds(2), capacity: 2000))
        try await queue.start()
        let answers = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<1000 { group.addTask { (i, try await queue.predict([Float(i), Float(-i)])) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        XCTAssertEqual(answers.count, 1000)
        for (i, row) in answers { XCTAssertEqual(row, [Float(2 * i), Float(-2 * i)]) }
        let stats = queue.stats
        XCTAssertEqual(stats.succeeded, 1000)
        XCTAssertGreaterThan(stats.meanBatchSize, 1, "concurrent requests share batches")
        XCTAssertLessThanOrEqual(stats.batchSizes.keys.max() ?? 0, 32)
        await queue.shutdown()
    }

    func testFIFOOrderWhileTheDeviceIsBusy() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 3, maxDelay: .zero, capacity: 100), gate: gate, log: log)
        try await queue.start()
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        var tasks: [Task<[Float], Error>] = []
        for i in 1...7 {
            tasks.append(Task { try await queue.predict([Float(i), 0]) })
            await waitUntil { queue.stats.queueDepth == i }
        }
        gate.open()
        _ = try await blocker.value
        for (i, task) in tasks.enumerated() {
            let value = try await task.value
            XCTAssertEqual(value, [Float(2 * (i + 1)), 0])
        }
        let order = log.all.map(\.firsts).filter { !$0.contains(1000) && $0 != [0] && $0 != [0, 0, 0] }
        XCTAssertEqual(order, [[1, 2, 3], [4, 5, 6], [7]], "FIFO, in batches of at most 3")
        await queue.shutdown()
    }

    func testDeadlineAnswersAQueuedRequestWhileTheDeviceIsBusy() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 1, maxDelay: .zero, timeout: .milliseconds(100)), gate: gate, log: log)
        try await queue.start()
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        do {
            _ = try await queue.predict([5, 0])
            XCTFail("answered, though the device never became free")
        } catch {
            XCTAssertEqual(error as? ServeError, .deadlineExceeded)
        }
        XCTAssertEqual(queue.stats.timedOut, 1)
        gate.open()
        let answer1 = try await blocker.value
        XCTAssertEqual(answer1, [2000, 0], "the running request still gets its answer")
        await queue.shutdown()
    }

    func testACancelledCallerIsDroppedAndNothingHangs() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 4, maxDelay: .zero), gate: gate, log: log)
        try await queue.start()
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        let cancelled = Task { try await queue.predict([7, 0]) }
        let kept = Task { try await queue.predict([8, 0]) }
        await waitUntil { queue.stats.queueDepth == 2 }
        cancelled.cancel()
        do {
            _ = try await cancelled.value
            XCTFail("a cancelled request was answered")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        gate.open()
        let answer2 = try await kept.value
        XCTAssertEqual(answer2, [16, 0])
        let answer3 = try await blocker.value
        XCTAssertEqual(answer3, [2000, 0])
        XCTAssertFalse(log.all.contains { $0.firsts.contains(7) }, "the cancelled request never reached the model")
        let answer4 = try await queue.predict([9, 0])
        XCTAssertEqual(answer4, [18, 0], "the queue still serves")
        XCTAssertEqual(queue.stats.cancelled, 1)
        await queue.shutdown()
    }

    func testAFullQueueRejectsAtOnce() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 1, maxDelay: .zero, capacity: 2), gate: gate, log: log)
        try await queue.start()
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        let queued = [Task { try await queue.predict([1, 0]) }, Task { try await queue.predict([2, 0]) }]
        await waitUntil { queue.stats.queueDepth == 2 }
        do {
            _ = try await queue.predict([3, 0])
            XCTFail("a third request fitted into a queue of 2")
        } catch {
            XCTAssertEqual(error as? ServeError, .queueFull(capacity: 2))
        }
        gate.open()
        _ = try await blocker.value
        for task in queued { _ = try await task.value }
        XCTAssertEqual(queue.stats.rejected, 1)
        await queue.shutdown()
    }

    func testAModelErrorFailsExactlyItsBatch() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 2, maxDelay: .zero), gate: gate, log: log)
        try await queue.start()
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        let bad = [Task { try await queue.predict([-1, 0]) }, Task { try await queue.predict([4, 0]) }]
        await waitUntil { queue.stats.queueDepth == 2 }
        let good = Task { try await queue.predict([5, 0]) }
        await waitUntil { queue.stats.queueDepth == 3 }
        gate.open()
        _ = try await blocker.value
        for task in bad {
            do {
                _ = try await task.value
                XCTFail("a request of the failing batch was answered")
            } catch {
                guard case .modelFailed? = error as? ServeError else { return XCTFail("\(error)") }
            }
        }
        let answer5 = try await good.value
        XCTAssertEqual(answer5, [10, 0])
        XCTAssertEqual(queue.stats.failed, 2)
        await queue.shutdown()
    }

    func testShutdownAnswersEverythingQueuedThenRefusesNewRequests() async throws {
        let gate = Gate(), log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 2, maxDelay: .zero), gate: gate, log: log)
        try await queue.start()
        XCTAssertTrue(queue.isReady)
        let blocker = Task { try await queue.predict([1000, 0]) }
        await waitUntil { log.all.contains { $0.firsts == [1000] } }
        let queued = (1...5).map { i in Task { try await queue.predict([Float(i), 0]) } }
        await waitUntil { queue.stats.queueDepth == 5 }
        let stopped = Task { await queue.shutdown() }
        await waitUntil { !queue.isReady }
        do {
            _ = try await queue.predict([6, 0])
            XCTFail("a request was taken during shutdown")
        } catch {
            XCTAssertEqual(error as? ServeError, .shuttingDown)
        }
        gate.open()
        await stopped.value
        let answer6 = try await blocker.value
        XCTAssertEqual(answer6, [2000, 0])
        for (i, task) in queued.enumerated() {
            let value = try await task.value
            XCTAssertEqual(value, [Float(2 * (i + 1)), 0])
        }
    }

    func testTwoDevicesShareTheQueue() async throws {
        let devices = Device.all.count > 1 ? [Device.cpu, Device.opencl(0)] : [Device.cpu]
        let log = Log()
        let queue = makeQueue(BatchingConfiguration(maxBatchSize: 4, maxDelay: .milliseconds(1), capacity: 1000), devices: devices,
                              log: log, delay: 0.01)
        try await queue.start()
        let answers = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<200 { group.addTask { (i, try await queue.predict([Float(i), 1])) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (i, row) in answers { XCTAssertEqual(row, [Float(2 * i), 2]) }
        let used = Set(log.all.filter { $0.firsts != [0] && $0.firsts != [0, 0, 0, 0] }.map(\.device))
        XCTAssertEqual(used, Set(devices), "every device's worker took batches")
        await queue.shutdown()
    }

    func testBadInputAndAFailedStart() async throws {
        let queue = makeQueue(BatchingConfiguration())
        try await queue.start()
        do {
            _ = try await queue.predict([1, 2, 3])
            XCTFail("three values accepted for a [2] input")
        } catch {
            XCTAssertEqual(error as? ServeError, .badInput("expected 2 values (2), got 3"))
        }
        await queue.shutdown()
        let broken = BatchingQueue(devices: [.cpu], inputShape: [2]) { _ in throw ServeError.badInput("no model here") }
        do {
            try await broken.start()
            XCTFail("started without a model")
        } catch {
            XCTAssertEqual(error as? ServeError, .startFailed(device: "cpu", reason: "no model here"))
        }
    }

    /// A real model file served: the answers are the probabilities the model gives directly.
    func testServingAModelFileMatchesDirectPredictions() async throws {
        let path = "Tests/Fixtures/models/pytorch-mlp.safetensors"
        let (queue, spec) = try BatchingQueue.serving(modelAt: path, devices: [.cpu],
                                                      configuration: BatchingConfiguration(maxBatchSize: 8, maxDelay: .milliseconds(2)))
        try await queue.start()
        let test = try MNIST().test.prefix(20)
        let answers = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<20 { group.addTask { (i, try await queue.predict(test.image(i).map(Float.init))) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let file = try ModelFile(contentsOf: path, device: .cpu)
        let direct = Tensor.withoutGrad { spec.probabilities(file.model(try! spec.inputs(fromPixels: test.pixels, count: 20, device: .cpu))) }.toArray()
        for i in 0..<20 {
            let expected = Array(direct[i * 10..<(i + 1) * 10])
            for (a, b) in zip(answers[i]!, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
        await queue.shutdown()
    }
}
