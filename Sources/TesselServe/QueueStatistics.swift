/// Counters of a ``BatchingQueue`` since it started (a consistent snapshot).
public struct QueueStatistics: Sendable, Equatable {
    /// Requests answered with a prediction.
    public var succeeded = 0
    /// Rejected because the queue was full.
    public var rejected = 0
    /// Answered with `deadlineExceeded`.
    public var timedOut = 0
    /// Dropped because their caller was cancelled while they were queued.
    public var cancelled = 0
    /// Failed with the model's error.
    public var failed = 0
    /// batchSizes[n]: how many batches of n requests ran.
    public var batchSizes: [Int: Int] = [:]
    /// Requests waiting now.
    public var queueDepth = 0
    /// Total seconds requests spent queued, and in the model (per request, summed).
    public var queueSeconds = 0.0
    public var modelSeconds = 0.0

    /// Batches that ran.
    public var batches: Int { batchSizes.values.reduce(0, +) }
    /// The mean number of requests per batch.
    public var meanBatchSize: Double {
        batches == 0 ? 0 : Double(batchSizes.reduce(0) { $0 + $1.key * $1.value }) / Double(batches)
    }
}
