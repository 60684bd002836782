import Foundation
import Synchronization

/// Tessel's global random stream: a seed plus a counter, so `rand` and friends give the same
/// numbers on every device (they are generated on the host from a counter-based generator and
/// uploaded) and the same sequence in every run after `Tensor.manualSeed(_:)`.
enum RandomStream {
    private static let state = Mutex<(seed: UInt64, counter: UInt64)>((seed: 0x5EED, counter: 0))

    static func seed(_ seed: UInt64) { state.withLock { $0 = (seed: seed, counter: 0) } }

    /// Reserves `count` consecutive 64-bit draws and returns them.
    static func draws(_ count: Int) -> [UInt64] {
        let (seed, start) = state.withLock { value -> (UInt64, UInt64) in
            defer { value.counter &+= UInt64(count) }
            return (value.seed, value.counter)
        }
        return (0..<UInt64(count)).map { splitMix64(seed &+ (start &+ $0) &* 0x9E37_79B9_7F4A_7C15) }
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
    /// Restarts the random stream, so later `rand`, `randn` and `randint` calls repeat.
    public static func manualSeed(_ seed: UInt64) { RandomStream.seed(seed) }

    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], device: Device = .default) -> Tensor {
        let count = shape.reduce(1, *)
        return fromHost(bits: RandomStream.draws(count).map { RandomStream.unit($0).bitPattern },
                               shape: shape, dtype: .float32, device: device)
    }

    /// Standard normal samples (Box-Muller).
    public static func randn(_ shape: [Int], device: Device = .default) -> Tensor {
        let count = shape.reduce(1, *)
        let draws = RandomStream.draws(count)
        let values = draws.map { draw -> UInt32 in
            // One draw's two 32-bit halves feed one Box-Muller pair; use the cosine branch.
            let u1 = (Float(draw >> 40) + 1) * 0x1p-24         // (0, 1]: log is finite
            let u2 = Float((draw >> 8) & 0xFF_FFFF) * 0x1p-24
            let value = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Float.pi * u2)
            return value.bitPattern
        }
        return fromHost(bits: values, shape: shape, dtype: .float32, device: device)
    }

    /// Uniform integers in `low..<high`, int32.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], device: Device = .default) -> Tensor {
        check(high > low, "randint: empty range \(low)..<\(high)")
        let span = UInt64(high - low)
        let values = RandomStream.draws(shape.reduce(1, *)).map { draw in
            UInt32(bitPattern: Int32(low + Int(draw.multipliedFullWidth(by: span).high)))
        }
        return fromHost(bits: values, shape: shape, dtype: .int32, device: device)
    }
}
