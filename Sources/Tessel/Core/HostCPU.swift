import CTesselCPU
import Dispatch
import Foundation

/// Facts about the machine's own CPU, for the devices that run on it (the CPU backend, and
/// CPU OpenCL drivers such as pocl).
enum HostCPU {
    /// A clock rate and where it came from.
    struct Clock: Sendable {
        var gigahertz: Double
        /// "measured", "nominal" (the model name's "@ 2.80GHz") or "cpuinfo".
        var source: String
    }

    /// `model name` from /proc/cpuinfo, or a generic name elsewhere.
    static let modelName: String = cpuInfoField("model name") ?? "CPU"
    static let vendor: String = cpuInfoField("vendor_id") ?? "unknown"

    /// The clock the cores run at under load. /proc/cpuinfo gives the nominal clock (in a VM,
    /// only that), and cores boost well above it: these EPYC machines list 2.6 GHz and run
    /// GEMM at about 3.7, so a peak from the listed clock came out below measured GEMM speed.
    /// Measured where the timing loop exists (x86-64), else the listed clock.
    static let clock: Clock = {
        if let measured = measureGigahertz() { return Clock(gigahertz: measured, source: "measured") }
        if let model = cpuInfoField("model name"), let at = model.range(of: "@ "),
           let ghz = Double(model[at.upperBound...].prefix { $0 != "G" }) {
            return Clock(gigahertz: ghz, source: "nominal")
        }
        if let mhz = cpuInfoField("cpu MHz").flatMap(Double.init) { return Clock(gigahertz: mhz / 1000, source: "cpuinfo") }
        return Clock(gigahertz: 2.0, source: "assumed")
    }()

    /// Times a chain of dependent integer additions (one per cycle on every x86-64 core) on the
    /// calling thread: the best of a few ~3 ms runs, after a warm-up that lets the core leave
    /// its idle clock. Costs ~15 ms, once.
    private static func measureGigahertz() -> Double? {
        let iterations = 1_000_000
        guard tessel_dependent_adds(iterations) > 0 else { return nil }
        var best = 0.0
        for _ in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            let additions = tessel_dependent_adds(iterations)
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            best = Swift.max(best, Double(additions) / Double(Swift.max(elapsed, 1)))
        }
        return best
    }

    private static func cpuInfoField(_ key: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
