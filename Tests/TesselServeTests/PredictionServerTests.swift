import Foundation
import Hummingbird
import HummingbirdTesting
import Tessel
import TesselData
import XCTest
@testable import TesselServe

/// The HTTP API on a real model file (the PyTorch-trained MLP fixture), through Hummingbird's
/// router test client: every endpoint, every bad-input case, and a fuzz run after which the
/// server still answers correctly.
final class PredictionServerTests: XCTestCase {
    private static let modelPath = "Tests/Fixtures/models/pytorch-mlp.safetensors"

    private func withServer(_ configuration: BatchingConfiguration = BatchingConfiguration(maxBatchSize: 16, maxDelay: .milliseconds(1)),
                            bodyLimit: Int = 1 << 16, _ test: @Sendable @escaping (any TestClientProtocol, BatchingQueue) async throws -> Void) async throws {
        let (queue, spec) = try BatchingQueue.serving(modelAt: Self.modelPath, devices: [.cpu], configuration: configuration)
        try await queue.start()
        let routes = PredictionRoutes(queue: queue, spec: spec, bodyLimit: bodyLimit)
        let app = Application(router: routes.router())
        try await app.test(.router) { client in try await test(client, queue) }
        await queue.shutdown()
    }

    private static func image(_ index: Int) throws -> [UInt8] { Array(try MNIST().test.image(index)) }

    private static func json(_ object: Any) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    private static func decode(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    func testPredictAcceptsJSONPNGAndRawBytesAndAnswersAsFastaisPredict() async throws {
        let pixels = try Self.image(0)   // a 7
        let png = try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/images/test0-label7-gray.png"))
        try await withServer { client, _ in
            for (body, type) in [(Self.json(["pixels": pixels.map(Int.init)]), "application/json"),
                                 (Self.json(["pixels": pixels.map { Double($0) / 255 }]), "application/json"),
                                 (ByteBuffer(bytes: png), "image/png"),
                                 (ByteBuffer(bytes: pixels), "application/octet-stream")] {
                try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: type], body: body) { response in
                    XCTAssertEqual(response.status, .ok, type)
                    let answer = Self.decode(response)
                    XCTAssertEqual(answer["label"] as? String, "7", type)
                    XCTAssertEqual(answer["index"] as? Int, 7, type)
                    let probabilities = answer["probabilities"] as? [Double] ?? []
                    XCTAssertEqual(probabilities.count, 10)
                    XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-4)
                }
            }
            let batch = Self.json(["images": [try Self.image(0), try Self.image(1), try Self.image(2)].map { $0.map(Int.init) }])
            try await client.execute(uri: "/v1/predict/batch", method: .post, body: batch) { response in
                XCTAssertEqual(response.status, .ok)
                let labels = (Self.decode(response)["predictions"] as? [[String: Any]])?.map { $0["label"] as? String }
                XCTAssertEqual(labels, ["7", "2", "1"])
            }
        }
    }

    func testHealthReadinessMetricsAndThePage() async throws {
        try await withServer { client, _ in
            try await client.execute(uri: "/healthz", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/readyz", method: .get) { XCTAssertEqual(String(buffer: $0.body), "ready\n") }
            try await client.execute(uri: "/v1/predict", method: .post, body: Self.json(["pixels": try Self.image(3).map(Int.init)])) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/v1/predict", method: .post, body: Self.json(["pixels": [1, 2]])) { XCTAssertEqual($0.status, .badRequest) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let text = String(buffer: response.body)
                for line in ["nv_inference_request_success 1", "nv_inference_request_failure{reason=\"bad_input\"} 1",
                             "nv_inference_pending_request_count 0", "nv_inference_batch_size_count"] {
                    XCTAssertTrue(text.contains(line), "\(line) in:\n\(text)")
                }
                XCTAssertTrue(text.contains("nv_inference_queue_duration_seconds_bucket"), text)
            }
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                XCTAssertTrue(String(buffer: response.body).contains("<canvas id=\"pad\""))
            }
        }
    }

    func testEveryBadInputIsAJSONErrorWithItsStatus() async throws {
        let cases: [(String, HTTPRequest.Method, ByteBuffer?, HTTPFields, HTTPResponse.Status, String)] = [
            ("/v1/predict", .post, ByteBuffer(string: "{\"pixels\": [1, 2"), [:], .badRequest, "expected a JSON object"),
            ("/v1/predict", .post, Self.json(["pixels": Array(repeating: 0, count: 100)]), [:], .badRequest, "100 pixels, the model takes 784"),
            ("/v1/predict", .post, Self.json(["pixels": Array(repeating: "a", count: 784)]), [:], .badRequest, "expected a JSON object"),
            ("/v1/predict", .post, ByteBuffer(string: "{\"pixels\": [" + Array(repeating: "1e999", count: 784).joined(separator: ",") + "]}"), [:],
             .badRequest, ""),
            ("/v1/predict", .post, Self.json(["pixels": Array(repeating: -3, count: 784)]), [:], .badRequest, "finite and in 0...255, got -3.0"),
            ("/v1/predict", .post, Self.json(["pixels": Array(repeating: 300, count: 784)]), [:], .badRequest, "got 300.0"),
            ("/v1/predict", .post, nil, [:], .badRequest, "empty body"),
            ("/v1/predict", .post, ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]), [.contentType: "image/png"], .badRequest, "not a readable PNG"),
            ("/v1/predict", .post, ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/images/wrong-size-10x12.png"))),
             [.contentType: "image/png"], .badRequest, "the PNG is 10x12, the model takes 28x28"),
            ("/v1/predict", .post, ByteBuffer(bytes: [UInt8](repeating: 0, count: 100)), [.contentType: "application/octet-stream"],
             .badRequest, "100 raw bytes, the model takes 784"),
            ("/v1/predict", .post, ByteBuffer(bytes: [UInt8](repeating: 32, count: 70_000)), [:], .contentTooLarge, "over the limit"),
            ("/v1/predict/batch", .post, Self.json(["images": []]), [:], .badRequest, "no images"),
            ("/v1/predict/batch", .post, Self.json(["images": [[1, 2]]]), [:], .badRequest, "image 0: 2 pixels"),
            ("/v1/predict", .get, nil, [:], .methodNotAllowed, "use POST"),
            ("/healthz", .post, nil, [:], .methodNotAllowed, "use GET"),
        ]
        try await withServer { client, _ in
            for (uri, method, body, headers, status, message) in cases {
                try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                    XCTAssertEqual(response.status, status, "\(method) \(uri) \(message)")
                    let error = Self.decode(response)["error"] as? String ?? ""
                    XCTAssertFalse(error.isEmpty, "a JSON error for \(message)")
                    if !message.isEmpty { XCTAssertTrue(error.contains(message), "\(error) should contain \(message)") }
                }
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertEqual(Self.decode(response)["error"] as? String, "no such path: /nowhere")
            }
        }
    }

    func testAFullQueueIs503WithRetryAfterAndNothingGoesUnanswered() async throws {
        // A model that cannot keep up: a capacity of 1 and a deadline of 1 ms.
        let configuration = BatchingConfiguration(maxBatchSize: 1, maxDelay: .zero, capacity: 1, timeout: .milliseconds(1))
        try await withServer(configuration) { client, _ in
            let body = Self.json(["pixels": try Self.image(0).map(Int.init)])
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        try await client.execute(uri: "/v1/predict", method: .post, body: body) { ($0.status, $0.headers[.retryAfter]) }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(statuses.count, 200, "every request answered")
            XCTAssertTrue(statuses.allSatisfy { [.ok, .serviceUnavailable, .gatewayTimeout].contains($0.0) }, "\(Set(statuses.map(\.0.code)))")
            XCTAssertTrue(statuses.contains { $0.0 == .serviceUnavailable }, "a queue of 1 overflowed under 200 concurrent requests")
            XCTAssertTrue(statuses.filter { $0.0 == .serviceUnavailable }.allSatisfy { $0.1 == "1" }, "503 carries Retry-After")
        }
    }

    func testFuzzedBodiesNeverBreakTheServer() async throws {
        let pixels = try Self.image(1)
        try await withServer { client, queue in
            var generator = SystemRandomNumberGenerator()
            for round in 0..<2000 {
                let length = Int.random(in: 0...1200, using: &generator)
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if round % 3 == 0 { bytes = Array("{\"pixels\": [".utf8) + bytes }
                if round % 5 == 0 { bytes = [0x89, 0x50, 0x4E, 0x47] + bytes }
                let type = ["application/json", "image/png", "application/octet-stream", "text/plain"][round % 4]
                try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: type], body: ByteBuffer(bytes: bytes)) { response in
                    XCTAssertTrue([.ok, .badRequest].contains(response.status), "round \(round): \(response.status)")
                }
            }
            try await client.execute(uri: "/v1/predict", method: .post, body: Self.json(["pixels": pixels.map(Int.init)])) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(Self.decode(response)["label"] as? String, "2", "still answering correctly after the fuzz run")
            }
            XCTAssertTrue(queue.isReady)
        }
    }
}

/// The one-pass reader of `{"pixels": [...]}` agrees with JSONDecoder and hands everything else to it.
final class PixelBodyTests: XCTestCase {
    func testThePlainReaderAgreesWithJSONDecoderOrDefers() {
        struct Body: Decodable { let pixels: [Double] }
        let cases = ["{\"pixels\": [0, 12, 255]}", " { \"pixels\" :[1.5,2e1, 3E-1 ,-4, 0.25 ] } \n", "{\"pixels\":[]}",
                     "{\"pixels\": [1, 2], \"extra\": 1}", "{\"pixels\": [\"1\"]}", "{\"pixels\": [1,]}", "{\"pixels\": [1 2]}",
                     "{\"pixels\": [1]} x", "{\"pixels\": [1.2.3]}", "{\"pixels\": [[1]]}", "{\"pixels\": [1e999]}", "{\"pix\": [1]}",
                     "{\"pixels\": [12345678901234567890]}", "{\"pixels\": [--1]}"]
        for text in cases {
            let bytes = Array(text.utf8)
            let decoded = try? JSONDecoder().decode(Body.self, from: Data(bytes)).pixels
            if let plain = ImageInput.plainPixelArray(bytes) {
                XCTAssertEqual(plain, decoded, "\(text): the one-pass reader must read what JSONDecoder reads")
            }
            if decoded == nil { XCTAssertNil(ImageInput.plainPixelArray(bytes).flatMap { $0.allSatisfy(\.isFinite) ? $0 : nil }, text) }
        }
        XCTAssertEqual(ImageInput.plainPixelArray(Array("{\"pixels\": [0, 12, 255]}".utf8)), [0, 12, 255])
    }
}
