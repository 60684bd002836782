import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `tessel serve` as a user runs it: the built binary on a free loopback port, checked over HTTP,
/// its drawing page used by headless Chromium as a person would (a stroke drawn with pointer
/// events on the canvas, the prediction read from the page), then stopped with SIGTERM.
final class ServeCommandTests: XCTestCase {
    func testServeAnswersTheDrawingPageAndStopsCleanlyOnSIGTERM() async throws {
        let chromium = "/usr/bin/chromium"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: chromium), "headless Chromium is needed (make test installs Debian's chromium)")
        let server = Process()
        server.executableURL = builtTessel
        server.arguments = ["serve", "--model", "Tests/Fixtures/models/tessel-cnn.safetensors", "--device", "cpu", "--port", "0"]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = output
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        // The ready line names the port the server bound.
        var log = ""
        let reader = output.fileHandleForReading
        while !log.contains("(ready)") && server.isRunning {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        let port = try XCTUnwrap(log.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\//).map { String($0.1) }, "no ready line in:\n\(log)")
        let (ready, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
        XCTAssertEqual(String(decoding: ready, as: UTF8.self), "ready\n")

        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: chromium)
        browser.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
                             "http://127.0.0.1:\(port)/#stroke"]
        let page = Pipe()
        browser.standardOutput = page
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        let dom = String(decoding: page.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        browser.waitUntilExit()
        XCTAssertTrue(dom.contains("<div id=\"label\">1</div>"), "the page shows the model's label for a vertical stroke:\n\(dom.suffix(2000))")
        XCTAssertTrue(dom.contains("class=\"bar\""), "and its probabilities")

        server.terminate()   // SIGTERM
        let rest = reader.readDataToEndOfFile()
        server.waitUntilExit()
        log += String(decoding: rest, as: UTF8.self)
        XCTAssertEqual(server.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("stopped: 1 predictions served"), log)
    }

    /// deploy/replicas.sh: two replicas behind nginx, one stopped with SIGTERM in the middle of a
    /// bounded load; the script fails if any request was not answered 200.
    func testTwoReplicasBehindNginxLoseNoRequestWhenOneStops() throws {
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/sh")
        script.arguments = ["deploy/replicas.sh", "Tests/Fixtures/models/pytorch-mlp.safetensors", "4"]
        script.environment = ProcessInfo.processInfo.environment.merging(["TESSEL": builtTessel.path]) { $1 }
        let output = Pipe()
        script.standardOutput = output
        script.standardError = output
        try script.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        XCTAssertEqual(script.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("replica A exited 0"), text)
        XCTAssertTrue(text.contains("every request answered 200"), text)
        let requests = text.firstMatch(of: /(\d+) requests in/).flatMap { Int($0.1) } ?? 0
        XCTAssertGreaterThan(requests, 100, "the load ran: \(text)")
    }

    func testServeRejectsBadArgumentsBeforeBinding() throws {
        let cases: [([String], String)] = [
            (["serve", "--model", "Tests/Fixtures/models/tessel-cnn.safetensors", "--port", "70000"], "--port must be 0...65535"),
            (["serve", "--model", "Tests/Fixtures/models/tessel-cnn.safetensors", "--max-batch", "0"], "--max-batch must be at least 1"),
            (["serve", "--model", "Tests/Fixtures/models/tessel-cnn.safetensors", "--timeout-ms=-5"], "--timeout-ms must be positive"),
            (["serve", "--model", "nowhere.safetensors", "--device", "cpu"], "nowhere.safetensors: no such file"),
            (["serve", "--model", "Tests/Fixtures/models/tessel-cnn.safetensors", "--device", "opencl:9"], "no device 'opencl:9'"),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try runTessel(arguments)
            XCTAssertNotEqual(status, 0, "\(arguments) exited 0")
            XCTAssertTrue(output.contains(expected), "\(arguments): expected \"\(expected)\" in:\n\(output)")
            XCTAssertFalse(output.contains("listening"), "\(arguments) started a server")
        }
    }
}
