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
