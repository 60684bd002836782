import Foundation

/// Everything one `tessel bench` run measured, as written by `--json`.
struct BenchReport: Codable {
    var date: String
    var devices: [BenchDeviceResult]
}

struct BenchDeviceResult: Codable {
    var device: String
    var name: String
    var limits: MachineLimits
    var rows: [BenchRow]

    /// The printed table: one row per case.
    func table() -> String {
        var lines = ["\(device)  \(name)"]
        if let peak = limits.peakFlops {
            lines.append(String(format: "  peak %.1f GFLOP/s (%@), copy %.1f GB/s measured", peak / 1e9, limits.peakSource,
                                limits.copyBandwidth / 1e9))
        } else {
            lines.append(String(format: "  peak FLOP/s %@, copy %.1f GB/s measured", limits.peakSource, limits.copyBandwidth / 1e9))
        }
        lines.append("  family     shape                           median ms    min ms    max ms  wall ms     rate        % peak  check")
        for row in rows {
            let rate: String
            if let perCall = row.microsecondsPerCall, let enqueue = row.microsecondsPerEnqueue {
                // On the CPU a call returns when its kernel is done; elsewhere enqueueing is the
                // host's cost and the rest waits for the device.
                rate = device == "cpu" ? String(format: "%7.2f us/call", perCall)
                                       : String(format: "%7.2f us/call (enqueue %.2f)", perCall, enqueue)
            } else {
                rate = row.computeBound ? String(format: "%7.1f GFLOP/s", row.gflops) : String(format: "%7.1f GB/s   ", row.gigabytesPerSecond)
            }
            let share = row.shareOfPeak.map { String(format: "%5.1f%%", $0 * 100) } ?? "    -"
            let check: String
            switch row.check {
            case .notChecked: check = "-"
            case .match: check = "ok"
            case .mismatch: check = String(format: "WRONG (%.1e)", row.errorAgainstCPU ?? .infinity)
            }
            lines.append(String(format: "  %@ %@ %9.3f %9.3f %9.3f %8.3f  %@  %@  %@",
                                row.family.padding(toLength: 10, withPad: " ", startingAt: 0),
                                row.shape.padding(toLength: 31, withPad: " ", startingAt: 0),
                                row.medianSeconds * 1e3, row.minSeconds * 1e3, row.maxSeconds * 1e3,
                                row.medianWallSeconds * 1e3, rate, share, check))
        }
        return lines.joined(separator: "\n")
    }
}

/// One case's figures.
struct BenchRow: Codable {
    var family: String
    var shape: String
    var computeBound: Bool
    var runs: Int
    /// Device time on OpenCL (event profiling), wall time on the CPU.
    var medianSeconds: Double
    var minSeconds: Double
    var maxSeconds: Double
    /// Wall time including launch and synchronisation.
    var medianWallSeconds: Double
    var gflops: Double
    var gigabytesPerSecond: Double
    /// GFLOP/s over peak for compute-bound cases, GB/s over measured copy bandwidth otherwise.
    var shareOfPeak: Double?
    /// Wall time per call, for the overhead family (launch and dispatch included, one
    /// synchronisation per loop of calls).
    var microsecondsPerCall: Double?
    /// Of that, the time until the loop of calls returned, before waiting for the device.
    var microsecondsPerEnqueue: Double?
    /// Largest difference from the CPU backend's result, relative to its largest magnitude
    /// (nil: not checked, on the CPU itself, for transfers, or with --no-check).
    var errorAgainstCPU: Float?
    var check: Check

    enum Check: String, Codable {
        case notChecked, match, mismatch
    }

    init(_ benchCase: BenchCase, timing: BenchTiming, limits: MachineLimits, errorAgainstCPU: Float?, tolerance: Float) {
        self.errorAgainstCPU = errorAgainstCPU
        check = errorAgainstCPU.map { $0 <= tolerance ? .match : .mismatch } ?? .notChecked
        family = benchCase.family
        shape = benchCase.shape
        computeBound = benchCase.isComputeBound
        runs = timing.wallSeconds.count
        medianSeconds = timing.median
        minSeconds = timing.minimum
        maxSeconds = timing.maximum
        medianWallSeconds = timing.medianWall
        microsecondsPerCall = benchCase.isOverhead ? timing.medianWall / Double(benchCase.callsPerRun) * 1e6 : nil
        microsecondsPerEnqueue = benchCase.isOverhead ? timing.medianEnqueue / Double(benchCase.callsPerRun) * 1e6 : nil
        gflops = benchCase.flops / timing.median / 1e9
        gigabytesPerSecond = benchCase.bytes / timing.median / 1e9
        if benchCase.isOverhead {
            shareOfPeak = nil
        } else if computeBound {
            shareOfPeak = limits.peakFlops.map { benchCase.flops / timing.median / $0 }
        } else {
            shareOfPeak = benchCase.bytes / timing.median / limits.copyBandwidth
        }
    }
}
