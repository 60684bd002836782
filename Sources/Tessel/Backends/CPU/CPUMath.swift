// Vectorised transcendental functions for the CPU backend. libm has no SIMD entry points that
// Swift can call, and a lane-by-lane `expf` runs at a tenth of memory speed. These are the
// Cephes single-precision approximations (within 2 ulp of the exact result on their range),
// evaluated on whole vectors.

/// e^x for every lane; overflows to +inf above ~88.72, underflows to 0 below ~-87.34, keeps NaN.
@inline(__always)
func vectorExp(_ x: Vector<Float>) -> Vector<Float> {
    typealias V = Vector<Float>
    // Swift's generic SIMD clamping, rounding and conversions run lane by lane; compares,
    // selects and bit casts compile to single instructions, so everything is built from those.
    // Lanes below the range (a padded row's -inf lanes) compute e^0 and become 0 at the end:
    // computed at the bound they would scale to a subnormal, and every such multiply costs the
    // core a microcode assist (a 10-class softmax row spent most of its time there).
    var clamped = x.replacing(with: 0, where: x .< -87.336_55)
    clamped.replace(with: 88.722_83, where: clamped .> 88.722_83)
    // x = n ln2 + r with |r| <= ln2 / 2. Adding 1.5 * 2^23 rounds x * log2(e) to an integer held
    // in the low mantissa bits: subtracting it back gives n as a float, the bits give it as an int.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let exponent = shifted.bitPattern &- 0x4B40_0000
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = V(repeating: 1.987_569_15e-4)
    p = fma(p, r, 1.398_199_950_7e-3)
    p = fma(p, r, 8.333_451_907_3e-3)
    p = fma(p, r, 4.166_579_589_4e-2)
    p = fma(p, r, 1.666_666_545_9e-1)
    p = fma(p, r, 5.000_000_120_1e-1)
    let y = p * (r * r) + r + 1
    // Scale by 2^n through the exponent bits; n + 127 stays in 1...254 on the clamped range,
    // except n = 128 at the top, which the two-step scale below handles without overflow.
    let half = exponent &>> 1
    let scaleA = V(bitPattern: (half &+ 127) &<< 23)
    let scaleB = V(bitPattern: (exponent &- half &+ 127) &<< 23)
    var result = y * scaleA * scaleB
    result.replace(with: Float.infinity, where: x .> 88.722_83)
    result.replace(with: 0, where: x .< -87.336_55)
    result.replace(with: x, where: x .!= x)
    return result
}

/// 1 / (1 + e^-x), from e^-|x| so that no lane overflows.
@inline(__always)
func vectorSigmoid(_ x: Vector<Float>) -> Vector<Float> {
    let e = vectorExp(-abs(x))
    let s = 1 / (1 + e)
    return s.replacing(with: e * s, where: x .< 0)
}

/// tanh x: a polynomial near 0 (where 1 - e^-2|x| would cancel), the exponential form beyond.
@inline(__always)
func vectorTanh(_ x: Vector<Float>) -> Vector<Float> {
    let magnitude = abs(x)
    let z = x * x
    var p = Vector<Float>(repeating: -5.704_988_727_45e-3)
    p = fma(p, z, 2.063_908_879_54e-2)
    p = fma(p, z, -5.373_971_555_31e-2)
    p = fma(p, z, 1.333_144_220_36e-1)
    p = fma(p, z, -3.333_328_194_22e-1)
    let small = p * z * x + x
    let e = vectorExp(-2 * magnitude)
    var large = (1 - e) / (1 + e)
    large.replace(with: -large, where: x .< 0)
    var result = large.replacing(with: small, where: magnitude .< 0.625)
    result.replace(with: x, where: x .!= x)
    return result
}

/// Applies a vector function to one scalar, so strided elements and tails get exactly the
/// values the contiguous SIMD path gives.
@inline(__always)
func viaVector(_ x: Float, _ f: (Vector<Float>) -> Vector<Float>) -> Float { f(Vector<Float>(repeating: x))[0] }

/// a * b + c, the polynomials' Horner steps: fused (one instruction) where the build targets a
/// CPU; without a target a fused multiply-add is a libm call per lane, so it stays two ops.
@inline(__always)
private func fma(_ a: Vector<Float>, _ b: Vector<Float>, _ c: Float) -> Vector<Float> {
    #if TESSEL_CPU_TARGET
    Vector<Float>(repeating: c).addingProduct(a, b)
    #else
    a * b + c
    #endif
}

@inline(__always)
private func abs(_ x: Vector<Float>) -> Vector<Float> { Vector<Float>(bitPattern: x.bitPattern & 0x7FFF_FFFF) }

extension SIMD16 where Scalar == Float {
    @inline(__always) init(bitPattern: SIMD16<Int32>) { self = unsafeBitCast(bitPattern, to: Self.self) }
    @inline(__always) var bitPattern: SIMD16<Int32> { unsafeBitCast(self, to: SIMD16<Int32>.self) }
}

extension SIMD8 where Scalar == Float {
    @inline(__always) init(bitPattern: SIMD8<Int32>) { self = unsafeBitCast(bitPattern, to: Self.self) }
    @inline(__always) var bitPattern: SIMD8<Int32> { unsafeBitCast(self, to: SIMD8<Int32>.self) }
}
