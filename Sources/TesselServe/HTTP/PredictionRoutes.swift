import Foundation
import Hummingbird
import TesselData

/// The HTTP API around a ``BatchingQueue``: `POST /v1/predict`, `POST /v1/predict/batch`,
/// `GET /healthz`, `GET /readyz`, `GET /metrics` and the drawing page at `GET /`.
///
/// Every failure is a JSON `{"error": "..."}` with its status: 400 for bad input, 413 for a body
/// over `bodyLimit`, 503 (with Retry-After) for a full queue or a shutdown, 504 past the deadline,
/// 500 for a model error, 405 for a wrong method on a known path, 404 otherwise.
public struct PredictionRoutes: Sendable {
    public let queue: BatchingQueue
    public let spec: ModelSpec
    public let metrics: ServerMetrics
    public let bodyLimit: Int

    /// Routes for `queue`, which from now on reports its batches to `metrics`.
    public init(queue: BatchingQueue, spec: ModelSpec, metrics: ServerMetrics = ServerMetrics(), bodyLimit: Int = 1 << 20) {
        self.queue = queue
        self.spec = spec
        self.metrics = metrics
        self.bodyLimit = bodyLimit
        queue.observeBatches { metrics.record($0) }
    }

    /// A Hummingbird router with the API's routes.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(JSONErrors())
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            queue.isReady ? text("ready\n", status: .ok) : text("not ready\n", status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ -> Response in
            metrics.setPending(queue.stats.queueDepth)
            return text(metrics.exposition(), status: .ok, type: "text/plain; version=0.0.4")
        }
        router.get("/") { _, _ -> Response in text(drawingPage, status: .ok, type: "text/html; charset=utf-8") }
        router.post("/v1/predict") { request, _ -> Response in
            await answer(request) { body, contentType in
                let pixels = try ImageInput.pixels(body: body, contentType: contentType, rows: spec.inputShape[1], columns: spec.inputShape[2])
                return try encoded(try await prediction(pixels))
            }
        }
        router.post("/v1/predict/batch") { request, _ -> Response in
            await answer(request) { body, _ in
                let images = try ImageInput.batch(body: body, rows: spec.inputShape[1], columns: spec.inputShape[2])
                let predictions = try await withThrowingTaskGroup(of: (Int, Prediction).self) { group in
                    for (index, image) in images.enumerated() { group.addTask { (index, try await prediction(image)) } }
                    return try await group.reduce(into: [Int: Prediction]()) { $0[$1.0] = $1.1 }
                }
                return try encoded(["predictions": (0..<images.count).map { predictions[$0]! }])
            }
        }
        for (path, allowed) in [("/v1/predict", "POST"), ("/v1/predict/batch", "POST")] {
            for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ in failure("use \(allowed) for \(path)", status: .methodNotAllowed, allow: allowed) }
            }
        }
        for path in ["/healthz", "/readyz", "/metrics", "/"] {
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ in failure("use GET for \(path)", status: .methodNotAllowed, allow: "GET") }
            }
        }
        return router
    }

    /// One image's answer, as fastai's `predict` returns it.
    struct Prediction: Codable, Sendable {
        let label: String
        let index: Int
        let probabilities: [Float]
    }

    private func prediction(_ pixels: [Float]) async throws -> Prediction {
        let probabilities = try await queue.predict(pixels)
        let index = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
        return Prediction(label: spec.classNames[index], index: index, probabilities: probabilities)
    }

    /// Runs `body` on the request's bytes and turns its value or error into a response.
    private func answer(_ request: Request, _ body: ([UInt8], String?) async throws -> Data) async -> Response {
        let started = ContinuousClock.now
        var request = request
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.collectBody(upTo: bodyLimit))
        } catch {
            metrics.failed("too_large", after: ContinuousClock.now - started)
            return failure("the body is over the limit of \(bodyLimit) bytes", status: .contentTooLarge)
        }
        do {
            let value = try await body(bytes, request.headers[.contentType])
            metrics.succeeded(after: ContinuousClock.now - started)
            return jsonResponse(value, status: .ok)
        } catch let error as ServeError {
            let (reason, status): (String, HTTPResponse.Status)
            switch error {
            case .badInput: (reason, status) = ("bad_input", .badRequest)
            case .queueFull: (reason, status) = ("queue_full", .serviceUnavailable)
            case .shuttingDown: (reason, status) = ("shutting_down", .serviceUnavailable)
            case .deadlineExceeded: (reason, status) = ("timeout", .gatewayTimeout)
            case .modelFailed, .startFailed: (reason, status) = ("model_error", .internalServerError)
            }
            metrics.failed(reason, after: ContinuousClock.now - started)
            return failure(error.description, status: status, retryAfter: status == .serviceUnavailable)
        } catch {
            metrics.failed("cancelled", after: ContinuousClock.now - started)
            return failure("\(error)", status: .internalServerError)
        }
    }
}

/// Errors thrown below the routes (no route for the path: 404) answered as JSON like the rest.
struct JSONErrors: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError {
            let message = error.status == .notFound ? "no such path: \(request.uri.path)" : "\(error.status.reasonPhrase)"
            return failure(message, status: error.status)
        }
    }
}

private func text(_ body: String, status: HTTPResponse.Status, type: String = "text/plain; charset=utf-8") -> Response {
    Response(status: status, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
}

private func encoded<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
}

private func jsonResponse(_ data: Data, status: HTTPResponse.Status, extra: HTTPFields = [:]) -> Response {
    var headers = extra
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

private func failure(_ message: String, status: HTTPResponse.Status, retryAfter: Bool = false, allow: String? = nil) -> Response {
    var headers: HTTPFields = [:]
    if retryAfter { headers[.retryAfter] = "1" }
    if let allow { headers[.allow] = allow }
    return jsonResponse((try? encoded(["error": message])) ?? Data(), status: status, extra: headers)
}
