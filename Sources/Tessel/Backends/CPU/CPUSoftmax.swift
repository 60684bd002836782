import Foundation

// Softmax and log-softmax rows of the CPU backend: one pass for the row's maximum, one that
// writes exp(x - max) and sums it, one that scales (or, for log-softmax, one that subtracts
// the log of the sum). Rows run in parallel; a strided row is first copied into a scratch row.

extension CPUBackend {
    func softmax(_ x: StridedView, log: Bool, into output: any BackendBuffer) {
        check(x.dtype == .float32 && x.layout.rank >= 1, "softmax: expects float32 rows, got \(x.dtype) \(x.shape)")
        let columns = x.shape[x.layout.rank - 1]
        guard columns > 0, x.count > 0 else { return }
        let rows = x.count / columns
        let outerRuns = StridedRuns([Layout(shape: Dims(x.shape.dropLast()), strides: Dims(x.layout.strides.dropLast()),
                                            offset: x.layout.offset)])
        let columnStride = x.layout.strides[x.layout.rank - 1]
        let source = UncheckedSendable(x.cpuBase(Float.self)), target = UncheckedSendable(output.cpuPointer(Float.self))
        parallelFor(rows, grain: Swift.max(1, elementwiseGrain / columns)) { range in
            let scratch = columnStride == 1 ? nil : ThreadScratch.floats(.softmaxRow, count: columns)
            // forEachRun visits the rows in order, so a counter recovers the output row.
            var row = range.lowerBound
            outerRuns.forEachRun(in: range) { offsets, length in
                for i in 0..<length {
                    var input = UnsafePointer(source.value + offsets[0] + i * outerRuns.innerStride(0))
                    if let scratch {
                        for j in 0..<columns { scratch[j] = input[j * columnStride] }
                        input = UnsafePointer(scratch)
                    }
                    softmaxRow(input, into: target.value + row * columns, count: columns, log: log)
                    row += 1
                }
            }
        }
    }
}

/// One contiguous row: the same results as the composed ops (`exp(x - max) / sum`, and
/// `x - (shift + log(sum(exp(x - shift))))` with the max as shift unless it is infinite).
private func softmaxRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, log: Bool) {
    typealias V = Vector<Float>
    let w = simdWidth
    if count <= w { return softmaxShortRow(x, into: y, count: count, log: log) }
    let vectorEnd = count - count % w
    // Maximum, NaN winning. Compares and selects compile to single instructions (Swift's
    // pointwiseMax runs lane by lane); NaN lanes are collected in a mask and checked once.
    var peak = -Float.infinity
    var lanes = V(repeating: -.infinity), nanLanes = SIMDMask<Vector<Int32>>()
    var j = 0
    while j < vectorEnd {
        let v = loadVector(x + j)
        nanLanes = nanLanes .| (v .!= v)
        lanes.replace(with: v, where: v .> lanes)
        j += w
    }
    var sawNaN = any(nanLanes)
    peak = lanes.max()
    while j < count {
        sawNaN = sawNaN || x[j].isNaN
        peak = Swift.max(peak, x[j])
        j += 1
    }
    if sawNaN { peak = .nan }
    let shift = log && peak.isInfinite ? 0 : peak
    // exp(x - shift), summed; softmax keeps the exponentials in y for the scaling pass.
    // Lane sums go into a Double every 64 vectors, so long rows keep float32 accuracy.
    var sums = V(), total = 0.0, pending = 0
    j = 0
    while j < vectorEnd {
        let e = vectorExp(loadVector(x + j) - shift)
        if !log { storeVector(e, y + j) }
        sums += e
        pending += 1
        if pending == 64 {
            total += Double(sums.sum())
            sums = V()
            pending = 0
        }
        j += w
    }
    if j < count {
        // The ragged tail as one vector, its unused lanes -inf (their exponentials are 0).
        let tail = loadPadded(x + j, count: count - j, padding: -.infinity)
        let e = vectorExp(tail - shift)
        sums += e
        if !log { storePartial(e, y + j, count: count - j) }
    }
    total += Double(sums.sum())
    let sum = Float(total)
    if log {
        let offset = shift + Foundation.log(sum)
        j = 0
        while j < vectorEnd {
            storeVector(loadVector(x + j) - offset, y + j)
            j += w
        }
        while j < count { y[j] = x[j] - offset; j += 1 }
    } else {
        let scale = 1 / sum
        j = 0
        while j < vectorEnd {
            storeVector(loadVector(y + j) * scale, y + j)
            j += w
        }
        while j < count { y[j] *= scale; j += 1 }
    }
}

/// A row of at most one vector (a 10-class classifier's logits): one padded vector, tree
/// reductions and no scalar loops, which were most of a short row's time. The same arithmetic
/// as `softmaxRow`.
@inline(__always)
private func softmaxShortRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, log: Bool) {
    let v = loadPadded(x, count: count, padding: -.infinity)
    let peak = any(v .!= v) ? Float.nan : laneMax(v)
    let shift = log && peak.isInfinite ? 0 : peak
    let e = vectorExp(v - shift)
    let sum = laneSum(e)
    storePartial(log ? v - (shift + Foundation.log(sum)) : e * (1 / sum), y, count: count)
}

/// The first `count` (at most one vector's) elements at `source`, the other lanes `padding`.
/// Copied as bytes: setting a vector's lanes one by one goes through memory lane by lane.
@inline(__always)
private func loadPadded(_ source: UnsafePointer<Float>, count: Int, padding: Float) -> Vector<Float> {
    var v = Vector<Float>(repeating: padding)
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: source, byteCount: count * MemoryLayout<Float>.stride) }
    return v
}

/// Stores the first `count` lanes of `v` at `target`.
@inline(__always)
private func storePartial(_ v: Vector<Float>, _ target: UnsafeMutablePointer<Float>, count: Int) {
    withUnsafeBytes(of: v) { UnsafeMutableRawPointer(target).copyMemory(from: $0.baseAddress!, byteCount: count * MemoryLayout<Float>.stride) }
}
