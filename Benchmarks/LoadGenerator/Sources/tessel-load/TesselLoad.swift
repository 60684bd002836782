import ArgumentParser
import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore

/// `tessel-load`: N clients, each on its own keep-alive connection, POST the same body to one
/// URL back to back for a fixed time (a closed loop, as wrk runs). Prints one `RESULT` line
/// (requests, duration, p50/p99 latency, answers by status class, failures) that
/// Benchmarks/serve_load.py reads, or a JSON object with `--json`.
@main
struct TesselLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessel-load",
        abstract: "Closed-loop HTTP POST load on one URL, with latency percentiles and answers counted by status.")

    @Option(help: "The URL to POST to, e.g. http://127.0.0.1:8080/v1/predict.") var url: String
    @Option(help: "A file whose bytes are the body of every request.") var body: String
    @Option(help: "The Content-Type header.") var contentType = "application/json"
    @Option(help: "Concurrent clients (one connection each).") var connections = 16
    @Option(help: "How long to send, in seconds.") var seconds = 4.0
    @Option(help: "Per-request timeout in seconds; a request past it counts as a timeout.") var timeout = 10.0
    @Flag(help: "Print the result as JSON instead of a RESULT line.") var json = false

    func validate() throws {
        guard connections >= 1 && connections <= 4096 else { throw ValidationError("--connections must be in 1...4096, got \(connections)") }
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600], got \(seconds)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
        guard URL(string: url)?.host != nil else { throw ValidationError("--url is not a URL: \(url)") }
        guard FileManager.default.isReadableFile(atPath: body) else { throw ValidationError("--body: cannot read \(body)") }
    }

    func run() async throws {
        let payload = try [UInt8](Data(contentsOf: URL(fileURLWithPath: body)))
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let started = ContinuousClock.now
        let end = started + .nanoseconds(Int64(seconds * 1e9))
        let requestTimeout = TimeAmount.nanoseconds(Int64(timeout * 1e9))
        let tally = await withTaskGroup(of: Tally.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    await Self.drive(client, url: url, contentType: contentType, payload: payload, until: end, timeout: requestTimeout)
                }
            }
            var total = Tally()
            for await tally in group { total.add(tally) }
            return total
        }
        let elapsed = ContinuousClock.now - started
        try await client.shutdown()
        let durationMicroseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let p50 = tally.latencies.valueAtPercentile(50), p99 = tally.latencies.valueAtPercentile(99)
        if json {
            let record: [String: Int64] = [
                "requests": Int64(tally.answered), "duration_us": durationMicroseconds, "p50_us": Int64(p50), "p99_us": Int64(p99),
                "ok": Int64(tally.ok), "non2xx": Int64(tally.other), "errors": Int64(tally.errors), "timeouts": Int64(tally.timeouts),
            ]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("RESULT requests=\(tally.answered) duration_us=\(durationMicroseconds) p50_us=\(p50) p99_us=\(p99) "
                  + "ok=\(tally.ok) non2xx=\(tally.other) errors=\(tally.errors) timeouts=\(tally.timeouts)")
        }
    }

    /// One client's loop: a request, its whole answer read, the next, until `end`.
    private static func drive(_ client: HTTPClient, url: String, contentType: String, payload: [UInt8],
                              until end: ContinuousClock.Instant, timeout: TimeAmount) async -> Tally {
        var tally = Tally()
        while ContinuousClock.now < end {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(payload)
            let sent = ContinuousClock.now
            do {
                let response = try await client.execute(request, timeout: timeout)
                _ = try await response.body.collect(upTo: 16 << 20)
                let latency = ContinuousClock.now - sent
                tally.record(status: Int(response.status.code),
                             microseconds: UInt64(latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000))
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                tally.timeouts += 1
            } catch {
                // Refused or reset: counted, and a pause, so a dead server is not a busy loop.
                tally.errors += 1
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        return tally
    }
}

/// What the clients saw: answers by status class, failures, and a latency histogram (us).
struct Tally: Sendable {
    var ok = 0, other = 0, errors = 0, timeouts = 0
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var answered: Int { ok + other }

    mutating func record(status: Int, microseconds: UInt64) {
        if (200..<300).contains(status) { ok += 1 } else { other += 1 }
        _ = latencies.record(Swift.max(1, Swift.min(microseconds, 60_000_000)))
    }

    mutating func add(_ other: Tally) {
        ok += other.ok
        self.other += other.other
        errors += other.errors
        timeouts += other.timeouts
        latencies.add(other.latencies)
    }
}
