import Foundation
import Synchronization

/// A seeded stream of random numbers: a seed plus a counter into a counter-based generator
/// (SplitMix64), so a sampling op gives the same numbers on every device (they are drawn on the
/// host and uploaded) and the same sequence in every run.
///
/// Pass one explicitly (`Tensor.rand([3], generator: g)`) to keep concurrent tasks
/// reproducible whatever order they run in; without one, ops draw from `Generator.default`,
/// which `Tensor.manualSeed(_:)` restarts.
public final class Generator: Sendable {
    private let state: Mutex<(seed: UInt64, counter: UInt64)>

    public init(seed: UInt64) { state = Mutex((seed: seed, counter: 0)) }

    /// The process-wide generator behind calls that name none.
    public static let `default` = Generator(seed: 0x5EED)

    /// Restarts the stream at `seed`.
    public func reseed(_ seed: UInt64) { state.withLock { $0 = (seed: seed, counter: 0) } }

    /// Reserves `count` consecutive 64-bit draws and returns them.
    func draws(_ count: Int) -> [UInt64] {
        let (seed, start) = state.withLock { value -> (UInt64, UInt64) in
            defer { value.counter &+= UInt64(count) }
            return (value.seed, value.counter)
        }
        return (0..<UInt64(count)).map { Generator.splitMix64(seed &+ (start &+ $0) &* 0x9E37_79B9_7F4A_7C15) }
    }

    /// SplitMix64's output function: a strong 64-bit mix, enough for sampling (not for cryptography).
    private static func splitMix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform float in [0, 1) from the top 24 bits of a draw.
    static func unit(_ draw: UInt64) -> Float { Float(draw >> 40) * 0x1p-24 }
}

extension Tensor {
    /// Restarts the default generator, so later `rand`, `randn` and `randint` calls repeat.
    public static func manualSeed(_ seed: UInt64) { Generator.default.reseed(seed) }

    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], generator: Generator = .default, device: Device = .default) -> Tensor {
        let count = Layout.elementCount(shape, op: "rand")
        return fromHost(bits: generator.draws(count).map { Generator.unit($0).bitPattern }, shape: shape, dtype: .float32, device: device)
    }

    /// Uniform samples in [`low`, `high`).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: Generator = .default,
                               device: Device = .default) -> Tensor {
        check(low <= high, "uniform: low \(low) is above high \(high)")
        let count = Layout.elementCount(shape, op: "uniform")
        return fromHost(bits: generator.draws(count).map { (low + (high - low) * Generator.unit($0)).bitPattern },
                        shape: shape, dtype: .float32, device: device)
    }

    /// Standard normal samples (Box-Muller).
    public static func randn(_ shape: [Int], generator: Generator = .default, device: Device = .default) -> Tensor {
        normal(shape, generator: generator, device: device)
    }

    /// Normal samples with `mean` and standard deviation `std` (Box-Muller).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: Generator = .default,
                              device: Device = .default) -> Tensor {
        check(std >= 0, "normal: std must not be negative, got \(std)")
        let count = Layout.elementCount(shape, op: "normal")
        let values = generator.draws(count).map { draw -> UInt32 in
            // One draw's two 32-bit halves feed one Box-Muller pair; use the cosine branch.
            let u1 = (Float(draw >> 40) + 1) * 0x1p-24         // (0, 1]: log is finite
            let u2 = Float((draw >> 8) & 0xFF_FFFF) * 0x1p-24
            let value = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Float.pi * u2)
            return (mean + std * value).bitPattern
        }
        return fromHost(bits: values, shape: shape, dtype: .float32, device: device)
    }

    /// Uniform integers in `low..<high`, int32.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], generator: Generator = .default,
                               device: Device = .default) -> Tensor {
        check(high > low, "randint: empty range \(low)..<\(high)")
        let span = UInt64(high - low)
        let values = generator.draws(Layout.elementCount(shape, op: "randint")).map { draw in
            UInt32(bitPattern: Int32(low + Int(draw.multipliedFullWidth(by: span).high)))
        }
        return fromHost(bits: values, shape: shape, dtype: .int32, device: device)
    }

    /// A random permutation of `0..<n` (int32), as `torch.randperm` (Fisher-Yates).
    public static func randperm(_ n: Int, generator: Generator = .default, device: Device = .default) -> Tensor {
        check(n >= 0 && n <= Int(Int32.max), "randperm: n = \(n) is out of range")
        var values = (0..<n).map { UInt32($0) }
        let draws = generator.draws(n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(draws[i].multipliedFullWidth(by: UInt64(i + 1)).high)
            values.swapAt(i, j)
        }
        return fromHost(bits: values, shape: [n], dtype: .int32, device: device)
    }

    /// 1 with probability `self` (float32 probabilities), else 0, as `torch.bernoulli`.
    public func bernoulli(generator: Generator = .default) -> Tensor {
        (Tensor.rand(shape, generator: generator, device: device) .< cast(.float32)).cast(.float32)
    }
}
