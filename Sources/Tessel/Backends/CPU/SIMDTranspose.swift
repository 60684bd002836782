// A simdWidth x simdWidth block transposed in registers: log2(simdWidth) rounds of even/odd
// unzips (each a two-source shuffle) instead of simdWidth^2 scalar loads and stores. GEMM
// packing uses it for a transposed B (x @ W.T), where the scalar loop cost about as much as a
// sixth of the product.
//
// Each round pairs vector i with vector i + simdWidth/2 and writes their even lanes, then their
// odd lanes, to vectors 2i and 2i + 1: the pairing bit of the vector index moves to the top of
// the lane index and the lowest lane bit moves to the bottom of the vector index. Loading row r
// into vector bitReversed(r) makes the rows' bits arrive in lane order, and column c ends in
// vector bitReversed(c).

@inline(__always)
private func unzip(_ a: Vector<Float>, _ b: Vector<Float>) -> (even: Vector<Float>, odd: Vector<Float>) {
    (Vector(lowHalf: a.evenHalf, highHalf: b.evenHalf), Vector(lowHalf: a.oddHalf, highHalf: b.oddHalf))
}

#if TESSEL_SIMD16
/// Row r of the block at `source` (rows `sourceStride` floats apart) becomes column r of the
/// block at `target` (rows `targetStride` floats apart).
@inline(__always)
func transposeBlock(_ source: UnsafePointer<Float>, sourceStride s: Int, into target: UnsafeMutablePointer<Float>,
                    targetStride t: Int) {
    var v0 = loadVector(source), v8 = loadVector(source + s), v4 = loadVector(source + 2 &* s)
    var v12 = loadVector(source + 3 &* s), v2 = loadVector(source + 4 &* s), v10 = loadVector(source + 5 &* s)
    var v6 = loadVector(source + 6 &* s), v14 = loadVector(source + 7 &* s), v1 = loadVector(source + 8 &* s)
    var v9 = loadVector(source + 9 &* s), v5 = loadVector(source + 10 &* s), v13 = loadVector(source + 11 &* s)
    var v3 = loadVector(source + 12 &* s), v11 = loadVector(source + 13 &* s), v7 = loadVector(source + 14 &* s)
    var v15 = loadVector(source + 15 &* s)
    for _ in 0..<4 {
        let (n0, n1) = unzip(v0, v8), (n2, n3) = unzip(v1, v9), (n4, n5) = unzip(v2, v10), (n6, n7) = unzip(v3, v11)
        let (n8, n9) = unzip(v4, v12), (n10, n11) = unzip(v5, v13), (n12, n13) = unzip(v6, v14), (n14, n15) = unzip(v7, v15)
        (v0, v1, v2, v3, v4, v5, v6, v7) = (n0, n1, n2, n3, n4, n5, n6, n7)
        (v8, v9, v10, v11, v12, v13, v14, v15) = (n8, n9, n10, n11, n12, n13, n14, n15)
    }
    storeVector(v0, target); storeVector(v8, target + t); storeVector(v4, target + 2 &* t)
    storeVector(v12, target + 3 &* t); storeVector(v2, target + 4 &* t); storeVector(v10, target + 5 &* t)
    storeVector(v6, target + 6 &* t); storeVector(v14, target + 7 &* t); storeVector(v1, target + 8 &* t)
    storeVector(v9, target + 9 &* t); storeVector(v5, target + 10 &* t); storeVector(v13, target + 11 &* t)
    storeVector(v3, target + 12 &* t); storeVector(v11, target + 13 &* t); storeVector(v7, target + 14 &* t)
    storeVector(v15, target + 15 &* t)
}
#else
/// Row r of the block at `source` (rows `sourceStride` floats apart) becomes column r of the
/// block at `target` (rows `targetStride` floats apart).
@inline(__always)
func transposeBlock(_ source: UnsafePointer<Float>, sourceStride s: Int, into target: UnsafeMutablePointer<Float>,
                    targetStride t: Int) {
    var v0 = loadVector(source), v4 = loadVector(source + s), v2 = loadVector(source + 2 &* s)
    var v6 = loadVector(source + 3 &* s), v1 = loadVector(source + 4 &* s), v5 = loadVector(source + 5 &* s)
    var v3 = loadVector(source + 6 &* s), v7 = loadVector(source + 7 &* s)
    for _ in 0..<3 {
        let (n0, n1) = unzip(v0, v4), (n2, n3) = unzip(v1, v5), (n4, n5) = unzip(v2, v6), (n6, n7) = unzip(v3, v7)
        (v0, v1, v2, v3, v4, v5, v6, v7) = (n0, n1, n2, n3, n4, n5, n6, n7)
    }
    storeVector(v0, target); storeVector(v4, target + t); storeVector(v2, target + 2 &* t)
    storeVector(v6, target + 3 &* t); storeVector(v1, target + 4 &* t); storeVector(v5, target + 5 &* t)
    storeVector(v3, target + 6 &* t); storeVector(v7, target + 7 &* t)
}
#endif
