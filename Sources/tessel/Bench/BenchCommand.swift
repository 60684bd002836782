import ArgumentParser
import Foundation
import Tessel

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time each kernel family on each device, in GFLOP/s or GB/s, against the device's limits."
    )

    @Option(help: "Devices: all, cpu, opencl:N (comma-separated).")
    var device = "all"

    @Option(help: "Kernel families (comma-separated): \(BenchSuite.families.joined(separator: ",")); default: all but overhead.")
    var ops = BenchSuite.defaultFamilies.joined(separator: ",")

    @Option(help: "GEMM shapes MxKxN or N for a square (comma-separated); default: 256..4096 squares and MNIST shapes.")
    var sizes: String?

    @Option(help: "Element counts for the memory-bound families (comma-separated).")
    var elements: String?

    @Option(help: "Seconds spent timing each case (at least 5 runs).")
    var budget = 0.5

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Flag(help: "Skip checking each operation's result against the CPU backend before timing it.")
    var noCheck = false

    @Flag(help: "Under each device's table, where each case's time goes op by op (host time between the ops the entry point runs).")
    var profile = false

    /// Largest relative difference from the CPU backend a case may show (float32 sums in other orders).
    static let checkTolerance: Float = 1e-3

    /// Every argument is checked before anything runs: a bad one never costs a benchmark run.
    func validate() throws {
        guard budget.isFinite && budget > 0 else { throw ValidationError("--budget must be a positive number of seconds, got \(budget)") }
        for family in families where !BenchSuite.families.contains(family) {
            throw ValidationError("unknown kernel family '\(family)'; known: \(BenchSuite.families.joined(separator: ", "))")
        }
        _ = try gemmShapes()
        _ = try elementCounts()
        if let json {
            // Opened now: an unwritable path fails here, not after the whole run.
            guard FileManager.default.createFile(atPath: json, contents: nil) else {
                throw ValidationError("cannot write --json \(json): check that its folder exists and is writable")
            }
        }
    }

    private var families: [String] { ops.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }

    func run() throws {
        let devices = try selectedDevices()
        let cases = BenchSuite.cases(families: families, gemmShapes: try gemmShapes(),
                                     elementCounts: try elementCounts())
        let timer = BenchTimer(budget: budget)
        var report = BenchReport(date: ISO8601DateFormatter().string(from: Date()), devices: [])
        for device in devices {
            let info = try device.backend().info
            progress("\(device): measuring copy bandwidth")
            let limits = try MachineLimits.measure(device, timer: timer)
            var rows: [BenchRow] = []
            var profiles: [String] = []
            for (number, benchCase) in cases.enumerated() {
                progress("\(device): [\(number + 1)/\(cases.count)] \(benchCase.family) \(benchCase.shape)")
                // Fast and wrong is not a result: other devices' outputs are compared with the CPU backend's first.
                let error = device != .cpu && benchCase.isCheckable && !noCheck
                    ? benchCase.relativeErrorAgainstCPU(on: device) : nil
                let run = benchCase.prepare(device)
                let timing = try timer.measure(run, on: device, profile: !benchCase.isOverhead)
                rows.append(BenchRow(benchCase, timing: timing, limits: limits, errorAgainstCPU: error,
                                     tolerance: Self.checkTolerance))
                if profile {
                    let runs = Swift.max(timing.wallSeconds.count, 5)
                    profiles.append("  \(benchCase.family) \(benchCase.shape)\n" + (try OpProfile.measure(run, on: device, runs: runs)).table())
                }
            }
            progress("")
            let result = BenchDeviceResult(device: device.description, name: info.name, limits: limits, rows: rows)
            print(result.table())
            if !profiles.isEmpty { print(profiles.joined(separator: "\n")) }
            report.devices.append(result)
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                          nan: "nan")
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        let wrong = report.devices.flatMap { result in result.rows.filter { $0.check == .mismatch }.map { "\(result.device) \($0.family) \($0.shape)" } }
        if !wrong.isEmpty {
            throw ValidationError("results differ from the CPU backend's: \(wrong.joined(separator: "; "))")
        }
    }

    private func selectedDevices() throws -> [Device] {
        if device == "all" { return Device.all }
        return try device.split(separator: ",").map { name in
            let parsed = try Device(parsing: String(name))
            _ = try parsed.backend()
            return parsed
        }
    }

    private func gemmShapes() throws -> [(Int, Int, Int)] {
        guard let sizes else { return BenchSuite.defaultGemmShapes }
        return try sizes.split(separator: ",", omittingEmptySubsequences: false).map { text in
            let fields = text.split(separator: "x", omittingEmptySubsequences: false)
            let parts = fields.compactMap { Int($0) }
            guard parts.count == fields.count, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("GEMM size '\(text)' is not N or MxKxN with positive integers")
            }
            switch parts.count {
            case 1: return (parts[0], parts[0], parts[0])
            case 3: return (parts[0], parts[1], parts[2])
            default: throw ValidationError("GEMM size '\(text)' is not N or MxKxN")
            }
        }
    }

    private func elementCounts() throws -> [Int] {
        guard let elements else { return BenchSuite.defaultElementCounts }
        return try elements.split(separator: ",", omittingEmptySubsequences: false).map { text in
            guard let count = Int(text), count > 0 else { throw ValidationError("element count '\(text)' is not a positive integer") }
            return count
        }
    }

    /// One self-overwriting line on standard error while the benchmark runs (terminals only).
    private func progress(_ text: String) {
        guard isatty(STDERR_FILENO) != 0 else { return }
        let padded = text.padding(toLength: 78, withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data("\r\(padded)\r".utf8))
    }
}
