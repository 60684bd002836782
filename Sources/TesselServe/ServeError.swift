/// Why a request to a ``BatchingQueue`` was not answered with a prediction.
public enum ServeError: Error, Equatable, CustomStringConvertible {
    /// The queue already holds `capacity` requests: rejected at once (an HTTP 503).
    case queueFull(capacity: Int)
    /// Still queued at its deadline (an HTTP 504).
    case deadlineExceeded
    /// The queue is shutting down and takes no new requests.
    case shuttingDown
    /// An input of the wrong size.
    case badInput(String)
    /// The model failed on the batch this request was in (every request of the batch gets it).
    case modelFailed(String)
    /// The model could not be loaded or warmed on a device.
    case startFailed(device: String, reason: String)

    public var description: String {
        switch self {
        case .queueFull(let capacity): return "the queue is full (\(capacity) requests waiting)"
        case .deadlineExceeded: return "the request waited past its deadline"
        case .shuttingDown: return "the server is shutting down"
        case .badInput(let reason): return reason
        case .modelFailed(let reason): return "the model failed: \(reason)"
        case .startFailed(let device, let reason): return "could not start the model on \(device): \(reason)"
        }
    }
}
