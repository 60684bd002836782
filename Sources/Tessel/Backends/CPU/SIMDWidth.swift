// The CPU backend's vector width is fixed at compile time. The Makefile passes
// `-Xswiftc -DTESSEL_SIMD16` together with `-Xcc -march=x86-64-v4` on AVX-512 machines; on an
// AVX2-only target SIMD16 splits into pairs and runs at half the speed of SIMD8, so 8 is the default.
#if TESSEL_SIMD16
typealias Vector<Scalar: SIMDScalar> = SIMD16<Scalar>
#else
typealias Vector<Scalar: SIMDScalar> = SIMD8<Scalar>
#endif

/// Lanes in the CPU backend's SIMD vectors.
let simdWidth = Vector<Float>.scalarCount

/// True when the compiler was told to target a specific CPU (the Makefile's flags); a build
/// without them is correct but turns SIMD arithmetic into scalar calls.
#if TESSEL_CPU_TARGET
let simdTargetSet = true
#else
let simdTargetSet = false
#endif

/// The sum of a vector's lanes as a tree of halves (the plain `sum()` adds them one by one, a
/// chain of `simdWidth` dependent adds).
@inline(__always) func laneSum(_ v: Vector<Float>) -> Float {
    #if TESSEL_SIMD16
    let eight = v.lowHalf + v.highHalf
    #else
    let eight = v
    #endif
    let four = eight.lowHalf + eight.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// The largest lane as a tree of halves (NaN lanes are the caller's to check: a comparison
/// with NaN keeps the other side).
@inline(__always) func laneMax(_ v: Vector<Float>) -> Float {
    #if TESSEL_SIMD16
    let eight = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    #else
    let eight = v
    #endif
    let four = eight.lowHalf.replacing(with: eight.highHalf, where: eight.highHalf .> eight.lowHalf)
    let two = four.lowHalf.replacing(with: four.highHalf, where: four.highHalf .> four.lowHalf)
    return two[1] > two[0] ? two[1] : two[0]
}
