import Foundation
import Tessel

/// Timings of one case: wall time (launch included, device synchronised) and, on OpenCL, the
/// kernels' device time from event profiling.
struct BenchTiming: Codable {
    var wallSeconds: [Double]
    var deviceSeconds: [Double]?
    /// The time until the run returned, before waiting for the device: what enqueueing cost.
    var enqueueSeconds: [Double]

    var median: Double { Self.median(deviceSeconds ?? wallSeconds) }
    var minimum: Double { (deviceSeconds ?? wallSeconds).min() ?? 0 }
    var maximum: Double { (deviceSeconds ?? wallSeconds).max() ?? 0 }
    var medianWall: Double { Self.median(wallSeconds) }
    var medianEnqueue: Double { Self.median(enqueueSeconds) }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Runs warm-ups, then timed repetitions until `minRuns` are done and `budget` seconds spent
/// (or `maxRuns` reached).
struct BenchTimer {
    var warmups = 2
    var minRuns = 5
    var maxRuns = 1000
    var budget = 0.5

    /// With `profile` off, OpenCL kernels are not timed by events (an event per launch would
    /// add to the launch cost that the overhead family measures).
    func measure(_ run: () -> Void, on device: Device, profile: Bool = true) throws -> BenchTiming {
        let backend = try device.backend()
        let profiler = profile ? backend as? OpenCLBackend : nil
        for _ in 0..<warmups { run() }
        backend.synchronize()
        var wall: [Double] = [], deviceTimes: [Double] = [], enqueue: [Double] = []
        let started = DispatchTime.now().uptimeNanoseconds
        while wall.count < maxRuns
                && (wall.count < minRuns || Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9 < budget) {
            profiler?.startProfiling()
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            enqueue.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            backend.synchronize()
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            if let timings = profiler?.stopProfiling() {
                deviceTimes.append(Double(timings.reduce(0) { $0 + $1.nanoseconds }) * 1e-9)
            }
        }
        // Host-only work (transfers) launches no kernel: device time would read 0.
        let hasDeviceTime = profiler != nil && deviceTimes.contains { $0 > 0 }
        return BenchTiming(wallSeconds: wall, deviceSeconds: hasDeviceTime ? deviceTimes : nil, enqueueSeconds: enqueue)
    }
}
