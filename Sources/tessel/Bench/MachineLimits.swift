import Foundation
import Tessel

/// What a device can do at best, to put measured figures in proportion.
struct MachineLimits: Codable {
    /// Peak float32 FLOP/s where it can be known from the hardware description, else nil.
    var peakFlops: Double?
    /// How the peak was derived.
    var peakSource: String
    /// Bandwidth of a large device-side copy, measured now (bytes per second).
    var copyBandwidth: Double

    static func measure(_ device: Device, timer: BenchTimer) throws -> MachineLimits {
        let info = try device.backend().info
        let count = 1 << 24
        let x = Tensor.rand([count], device: device)
        let timing = try timer.measure({ _ = x.clone() }, on: device)
        let bandwidth = 8 * Double(count) / timing.median
        if info.backend == "cpu" {
            let ghz = cpuGigahertz()
            let lanes = Double(simdLanes(info))
            // Two FMA units per core on every x86 server core of the last decade, 2 FLOPs per FMA.
            let peak = Double(info.computeUnits) * lanes * 2 * 2 * ghz * 1e9
            return MachineLimits(peakFlops: peak, peakSource: String(format: "%d cores x %d lanes x 2 FMA x 2 x %.2f GHz",
                                                                     info.computeUnits, Int(lanes), ghz),
                                 copyBandwidth: bandwidth)
        }
        return MachineLimits(peakFlops: nil, peakSource: "not published by the OpenCL driver", copyBandwidth: bandwidth)
    }

    /// The CPU backend's lane count, from `tessel devices`' SIMD width line.
    private static func simdLanes(_ info: DeviceInfo) -> Int {
        let width = info.details.first { $0.0 == "SIMD width" }?.1 ?? "8"
        return Int(width.split(separator: " ").first ?? "8") ?? 8
    }

    /// The current clock from /proc/cpuinfo (the nominal one in the model name when present).
    private static func cpuGigahertz() -> Double {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if let at = text.range(of: "@ "), let ghz = Double(text[at.upperBound...].prefix { $0 != "G" }) { return ghz }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let mhz = Double(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") { return mhz / 1000 }
        }
        return 2.0
    }
}
