import Prometheus

/// The server's Prometheus metrics, named after Triton's `nv_inference_*` family so its
/// dashboards carry over: requests by outcome, latency, queue time and batch-size histograms,
/// the pending-request gauge.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let success: Counter
    private let failures: [String: Counter]
    private let requestDuration: DurationHistogram
    private let queueDuration: DurationHistogram
    private let computeDuration: DurationHistogram
    private let batchSize: ValueHistogram
    private let pending: Gauge

    /// The outcomes counted under `nv_inference_request_failure{reason=...}`.
    public static let failureReasons = ["bad_input", "too_large", "queue_full", "timeout", "shutting_down", "model_error", "cancelled"]

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "nv", subsystem: "inference", metricName: metric, unitName: unit, helpText: help)
        }
        success = registry.makeCounter(descriptor: name("request", "success", "Requests answered with a prediction"))
        failures = Dictionary(uniqueKeysWithValues: ServerMetrics.failureReasons.map { reason in
            (reason, registry.makeCounter(descriptor: name("request", "failure", "Requests answered with an error, by reason"),
                                          labels: [("reason", reason)]))
        })
        let latencyBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                          .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]
        requestDuration = registry.makeDurationHistogram(
            descriptor: name("request_duration", "seconds", "Seconds from a request's arrival to its answer"), buckets: latencyBuckets)
        queueDuration = registry.makeDurationHistogram(
            descriptor: name("queue_duration", "seconds", "Seconds a request waited in the batching queue"), buckets: latencyBuckets)
        computeDuration = registry.makeDurationHistogram(
            descriptor: name("compute_infer_duration", "seconds", "Seconds of the batch a request ran in"), buckets: latencyBuckets)
        batchSize = registry.makeValueHistogram(descriptor: name("batch", "size", "Requests per device batch"),
                                                buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        pending = registry.makeGauge(descriptor: name("pending_request", "count", "Requests waiting in the queue"))
    }

    func succeeded(after duration: Duration) {
        success.increment()
        requestDuration.record(duration)
    }

    func failed(_ reason: String, after duration: Duration) {
        failures[reason]?.increment()
        requestDuration.record(duration)
    }

    /// One batch's figures, as the queue reports them: each request's time in the queue, the
    /// batch's time in the model (for each of its requests), its size.
    func record(_ batch: BatchingQueue.BatchReport) {
        batchSize.record(Double(batch.size))
        for waited in batch.queueDurations {
            queueDuration.record(waited)
            computeDuration.record(batch.modelDuration)
        }
    }

    /// Requests waiting now (read at each scrape).
    func setPending(_ count: Int) { pending.set(Double(count)) }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
