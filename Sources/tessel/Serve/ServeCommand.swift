import ArgumentParser
import Foundation
import Hummingbird
import Tessel
import TesselServe

/// `tessel serve`: a model file behind the batching queue and its HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model file over HTTP with a batching inference queue (POST /v1/predict, GET / to draw a digit)."
    )

    @Option(help: "The model file (.safetensors) that `tessel train` wrote.")
    var model: String

    @Option(help: "Devices, comma-separated (one worker each): auto, cpu, opencl:N.")
    var device = "auto"

    @Option(help: "Address to bind (loopback unless told otherwise).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed when ready).")
    var port = 8080

    @Option(help: "The most requests in one device batch.")
    var maxBatch = 64

    @Option(help: "Milliseconds the first request of a forming batch may wait for company.")
    var maxDelayMs = 5.0

    @Option(help: "The most requests waiting; past it requests get 503.")
    var queueCapacity = 1024

    @Option(help: "Milliseconds a request may wait in the queue before it gets 504 (default: no deadline).")
    var timeoutMs: Double?

    @Option(help: "The largest request body, in bytes (past it: 413).")
    var bodyLimit = 1 << 20

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535 (0: any free port), got \(port)") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1, got \(maxBatch)") }
        guard maxDelayMs.isFinite, maxDelayMs >= 0 else { throw ValidationError("--max-delay-ms must be 0 or more, got \(maxDelayMs)") }
        guard queueCapacity >= 1 else { throw ValidationError("--queue-capacity must be at least 1, got \(queueCapacity)") }
        if let timeoutMs { guard timeoutMs.isFinite, timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive, got \(timeoutMs)") } }
        guard bodyLimit >= 1024 else { throw ValidationError("--body-limit must be at least 1024, got \(bodyLimit)") }
    }

    func run() async throws {
        let devices = try device.split(separator: ",").map { name -> Device in
            let text = name.trimmingCharacters(in: .whitespaces)
            let chosen = text == "auto" ? Device.best : try Device(parsing: text)
            _ = try chosen.backend()
            return chosen
        }
        let configuration = BatchingConfiguration(maxBatchSize: maxBatch, maxDelay: .microseconds(Int64(maxDelayMs * 1000)),
                                                  capacity: queueCapacity, timeout: timeoutMs.map { .microseconds(Int64($0 * 1000)) })
        let (queue, spec) = try BatchingQueue.serving(modelAt: model, devices: devices, configuration: configuration)
        try await queue.start()
        let routes = PredictionRoutes(queue: queue, spec: spec, bodyLimit: bodyLimit)
        let app = Application(router: routes.router(), configuration: .init(address: .hostname(host, port: port), serverName: "tessel"),
                              onServerRunning: { channel in
                                  emit("serving \(model) (\(spec.architecture), \(spec.classCount) classes) on \(devices.map(\.description).joined(separator: ", ")) at http://\(host):\(channel.localAddress?.port ?? port)/ (ready)")
                              })
        // SIGINT/SIGTERM: the server stops taking connections and finishes the requests it has
        // (they wait on the queue, which keeps running); then the queue drains and stops.
        try await app.runService()
        await queue.shutdown()
        emit("stopped: \(queue.stats.succeeded) predictions served")
    }
}
