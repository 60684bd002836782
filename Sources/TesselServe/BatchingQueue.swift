import Foundation
import Tessel

/// How a ``BatchingQueue`` forms batches.
public struct BatchingConfiguration: Sendable {
    /// The most requests in one device batch.
    public var maxBatchSize: Int
    /// How long the first request of a forming batch may wait for company, counted from its
    /// arrival (not from the end of the previous batch).
    public var maxDelay: Duration
    /// The most requests waiting at once; past it a request is rejected at once.
    public var capacity: Int
    /// A request still queued this long after it arrived is answered with `deadlineExceeded`,
    /// even while every device is busy. Nil: no deadline.
    public var timeout: Duration?

    public init(maxBatchSize: Int = 64, maxDelay: Duration = .milliseconds(5), capacity: Int = 1024, timeout: Duration? = nil) {
        if maxBatchSize < 1 || capacity < 1 || maxDelay < .zero || (timeout.map { $0 <= .zero } ?? false) {
            fatalError("BatchingConfiguration: maxBatchSize \(maxBatchSize) and capacity \(capacity) must be positive, maxDelay \(maxDelay) not negative, timeout \(String(describing: timeout)) positive")
        }
        self.maxBatchSize = maxBatchSize
        self.maxDelay = maxDelay
        self.capacity = capacity
        self.timeout = timeout
    }

    /// How much before its delay is up a batch may form: a tenth of `maxDelay`, at most 100 us,
    /// what a timed wait on a thread typically oversleeps.
    public var wakeUpAllowance: Duration { Swift.min(maxDelay / 10, .microseconds(100)) }
}

/// Turns concurrent single requests into device batches: callers `await predict(row)`; a worker
/// thread per device takes up to `maxBatchSize` queued requests (FIFO) once the batch is full or
/// its oldest request has waited `maxDelay`, stacks them into one tensor, runs the model without
/// recording, and hands each caller its own row of the output.
///
/// Device work runs on threads of the queue's own, never on the cooperative pool that serves
/// callers. A cancelled caller's request is dropped if it is still queued; a request past its
/// deadline is answered at its deadline; a model error fails exactly the requests of its batch;
/// `shutdown()` stops intake and answers everything queued before the workers exit.
public final class BatchingQueue: @unchecked Sendable {
    // Every mutable field below is guarded by `condition` (its lock), which workers, the
    // deadline thread and callers share; @unchecked Sendable rests on that.
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var nextID: UInt64 = 0
    private var stopping = false
    private var statistics = QueueStatistics()
    private var ready = false
    private var batchObservers: [@Sendable (BatchReport) -> Void] = []

    /// One batch that ran: its size, how long each of its requests waited, and the model's time.
    public struct BatchReport: Sendable {
        public let size: Int
        public let queueDurations: [Duration]
        public let modelDuration: Duration
        public let succeeded: Bool
    }

    public let configuration: BatchingConfiguration
    public let devices: [Device]
    /// The shape of one request's input (a batch is [n] + this).
    public let inputShape: [Int]
    private let makeModel: @Sendable (Device) throws -> (Tensor) throws -> Tensor
    private let finished = DispatchGroup()

    private final class Request {
        let id: UInt64
        let input: [Float]
        let arrived: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<[Float], Error>?

        init(id: UInt64, input: [Float], arrived: ContinuousClock.Instant, deadline: ContinuousClock.Instant?,
             continuation: CheckedContinuation<[Float], Error>) {
            self.id = id
            self.input = input
            self.arrived = arrived
            self.deadline = deadline
            self.continuation = continuation
        }
    }

    /// A queue over `devices` (one worker each, pulling from the shared queue). `makeModel` runs
    /// on each device's worker thread and returns the function that maps a batch [n] +
    /// `inputShape` on that device to its output [n, ...]; that function only ever runs there.
    public init(devices: [Device], inputShape: [Int], configuration: BatchingConfiguration = BatchingConfiguration(),
                makeModel: @escaping @Sendable (Device) throws -> (Tensor) throws -> Tensor) {
        if devices.isEmpty { fatalError("BatchingQueue: needs at least one device") }
        self.devices = devices
        self.inputShape = inputShape
        self.configuration = configuration
        self.makeModel = makeModel
    }

    /// Elements of one request's input.
    public var inputCount: Int { inputShape.reduce(1, *) }

    /// Starts a worker per device: each makes its model and runs it once at batch size 1 and at
    /// `maxBatchSize` (so no request pays a kernel build), then reports ready. Throws
    /// `startFailed` when a device cannot.
    public func start() async throws {
        let shape = inputShape, largest = configuration.maxBatchSize
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in devices {
                group.addTask {
                    try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, Error>) in
                        self.finished.enter()
                        let thread = Thread { [self] in
                            defer { finished.leave() }
                            let model: (Tensor) throws -> Tensor
                            do {
                                model = try makeModel(device)
                                try Tensor.withoutGrad {
                                    for size in Set([1, largest]) {
                                        _ = try model(Tensor.zeros([size] + shape, device: device)).checked().toArray()
                                    }
                                }
                            } catch {
                                started.resume(throwing: ServeError.startFailed(device: device.description, reason: "\(error)"))
                                return
                            }
                            started.resume()
                            work(model: model, device: device)
                        }
                        thread.name = "tessel-serve-\(device)"
                        thread.start()
                    }
                }
            }
            try await group.waitForAll()
        }
        locked { ready = true }
        finished.enter()
        let reaper = Thread { [self] in
            defer { finished.leave() }
            expireRequests()
        }
        reaper.name = "tessel-serve-deadlines"
        reaper.start()
    }

    /// True once every device's model is loaded and warmed, until shutdown starts.
    public var isReady: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ready && !stopping
    }

    /// Calls `observer` after every batch (on that device's worker thread), as metrics need.
    public func observeBatches(_ observer: @escaping @Sendable (BatchReport) -> Void) {
        locked { batchObservers.append(observer) }
    }

    /// A snapshot of the counters.
    public var stats: QueueStatistics {
        condition.lock()
        defer { condition.unlock() }
        var snapshot = statistics
        snapshot.queueDepth = pending.count
        return snapshot
    }

    /// The model's output row for `input` (`inputCount` values), computed in a batch with
    /// whatever other requests are waiting.
    public func predict(_ input: [Float]) async throws -> [Float] {
        guard input.count == inputCount else {
            throw ServeError.badInput("expected \(inputCount) values (\(inputShape.map(String.init).joined(separator: "x"))), got \(input.count)")
        }
        let id = locked { () -> UInt64 in
            defer { nextID += 1 }
            return nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Float], Error>) in
                let now = ContinuousClock.now
                condition.lock()
                if stopping {
                    condition.unlock()
                    return continuation.resume(throwing: ServeError.shuttingDown)
                }
                // Checked under the lock: a cancellation after this point finds the request queued.
                if Task.isCancelled {
                    statistics.cancelled += 1
                    condition.unlock()
                    return continuation.resume(throwing: CancellationError())
                }
                if pending.count >= configuration.capacity {
                    statistics.rejected += 1
                    condition.unlock()
                    return continuation.resume(throwing: ServeError.queueFull(capacity: configuration.capacity))
                }
                pending.append(Request(id: id, input: input, arrived: now, deadline: configuration.timeout.map { now + $0 },
                                       continuation: continuation))
                condition.broadcast()
                condition.unlock()
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Stops intake (new requests get `shuttingDown`), lets the workers answer everything still
    /// queued, and returns when they have exited.
    public func shutdown() async {
        locked {
            stopping = true
            condition.broadcast()
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            finished.notify(queue: .global()) { done.resume() }
        }
    }

    /// `body` under the queue's lock (callable from async code, unlike the lock itself).
    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    // MARK: Workers

    /// A device's loop: wait for requests, form a batch, run it, answer it; until shutdown has
    /// drained the queue.
    private func work(model: (Tensor) throws -> Tensor, device: Device) {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty {
                condition.unlock()
                return
            }
            // Wait for company until the batch is full or its oldest request's delay is up,
            // aiming a little early: a timed wait wakes tens of microseconds late, and the
            // request's whole wait should be maxDelay, not maxDelay plus the wake-up.
            while !stopping && !pending.isEmpty && pending.count < configuration.maxBatchSize {
                let flushAt = pending[0].arrived + configuration.maxDelay - configuration.wakeUpAllowance
                let now = ContinuousClock.now
                if now >= flushAt { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: seconds(flushAt - now)))
            }
            let batch = Array(pending.prefix(configuration.maxBatchSize))
            pending.removeFirst(batch.count)
            condition.unlock()
            if batch.isEmpty { continue }
            run(batch, model: model, device: device)
        }
    }

    private func run(_ batch: [Request], model: (Tensor) throws -> Tensor, device: Device) {
        let started = ContinuousClock.now
        let result: Result<[Float], Error> = Result {
            let input = try Tensor(batch.flatMap(\.input), shape: [batch.count] + inputShape, device: device)
            return try Tensor.withoutGrad { try model(input).checked().toArray() }
        }
        let finishedAt = ContinuousClock.now
        condition.lock()
        statistics.batchSizes[batch.count, default: 0] += 1
        statistics.queueSeconds += batch.reduce(0) { $0 + seconds(started - $1.arrived) }
        statistics.modelSeconds += Double(batch.count) * seconds(finishedAt - started)
        let continuations = batch.map { request -> CheckedContinuation<[Float], Error>? in
            defer { request.continuation = nil }
            return request.continuation
        }
        let succeeded: Bool
        switch result {
        case .success(let values) where values.count % Swift.max(batch.count, 1) == 0: succeeded = true
        default: succeeded = false
        }
        if succeeded { statistics.succeeded += batch.count } else { statistics.failed += batch.count }
        let observers = batchObservers
        condition.unlock()
        let report = BatchReport(size: batch.count, queueDurations: batch.map { started - $0.arrived },
                                 modelDuration: finishedAt - started, succeeded: succeeded)
        for observer in observers { observer(report) }
        switch result {
        case .success(let values) where values.count % Swift.max(batch.count, 1) == 0:
            let width = values.count / batch.count
            for (row, continuation) in continuations.enumerated() {
                continuation?.resume(returning: Array(values[row * width..<(row + 1) * width]))
            }
        case .success(let values):
            let error = ServeError.modelFailed("\(values.count) output values do not split into \(batch.count) rows")
            for continuation in continuations { continuation?.resume(throwing: error) }
        case .failure(let error):
            let failure = ServeError.modelFailed("\(error)")
            for continuation in continuations { continuation?.resume(throwing: failure) }
        }
    }

    // MARK: Deadlines and cancellation

    /// The deadline thread: answers each queued request at its deadline (workers may all be busy).
    private func expireRequests() {
        condition.lock()
        while true {
            let now = ContinuousClock.now
            var expired: [CheckedContinuation<[Float], Error>] = []
            pending.removeAll { request in
                guard let deadline = request.deadline, deadline <= now, let continuation = request.continuation else { return false }
                expired.append(continuation)
                request.continuation = nil
                return true
            }
            statistics.timedOut += expired.count
            if !expired.isEmpty {
                condition.unlock()
                for continuation in expired { continuation.resume(throwing: ServeError.deadlineExceeded) }
                condition.lock()
                continue
            }
            if stopping && pending.isEmpty { break }
            if let next = pending.compactMap(\.deadline).min() {
                _ = condition.wait(until: Date(timeIntervalSinceNow: seconds(next - now)))
            } else if stopping {
                // Requests without deadlines: the workers drain them.
                _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    /// Drops request `id` if it is still queued (its caller was cancelled).
    private func cancel(_ id: UInt64) {
        condition.lock()
        guard let index = pending.firstIndex(where: { $0.id == id }) else {
            // Already in a batch (its caller gets the answer), or not queued yet (predict sees
            // the cancellation when it takes the lock).
            condition.unlock()
            return
        }
        let request = pending.remove(at: index)
        let continuation = request.continuation
        request.continuation = nil
        statistics.cancelled += 1
        condition.broadcast()
        condition.unlock()
        continuation?.resume(throwing: CancellationError())
    }
}

private func seconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) / 1e18
}
