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
        return MachineLimits(peakFlops: info.peakFlops?.flops,
                             peakSource: info.peakFlops?.derivation ?? "not published by the driver",
                             copyBandwidth: bandwidth)
    }
}
