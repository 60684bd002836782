// Reductions of the CPU backend. Three shapes of work:
// - rows: the reduced elements of each output are contiguous (softmax over the last axis, a
//   full sum); SIMD over the row, and a single huge row is split across cores;
// - columns: the outputs are contiguous and the reduced axis strides over them (sum over the
//   batch axis); SIMD across outputs, one pass over memory;
// - anything else: a strided scalar walk.

/// A reduction's running result: the value, and for argmax/argmin the flat index it came from.
struct ReducePartial {
    var value: Double
    var index: Int
}

extension CPUBackend {
    func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer) {
        if reducedRank == x.layout.rank, x.count > 0, x.count < elementwiseGrain * 2, let stride = x.layout.flatStride {
            // A small dense tensor reduced whole (a loss, a norm): one run, no layout work.
            let partial = x.dtype == .float32
                ? reduceRun(op, x.cpuBase(Float.self) + x.layout.offset, stride, x.count, 0)
                : reduceRun(op, x.cpuBase(Int32.self) + x.layout.offset, stride, x.count, 0)
            if op.isArg {
                output.cpuPointer(Int32.self)[0] = Int32(partial.index)
            } else if x.dtype == .float32 {
                output.cpuPointer(Float.self)[0] = Float(partial.value)
            } else {
                output.cpuPointer(Int32.self)[0] = Int32(truncatingIfNeeded: Int64(partial.value))
            }
            return
        }
        let outerRank = x.layout.rank - reducedRank
        let outer = Layout(shape: Dims(x.shape[..<outerRank]), strides: Dims(x.layout.strides[..<outerRank]),
                           offset: x.layout.offset).collapsed()
        let inner = Layout(shape: Dims(x.shape[outerRank...]), strides: Dims(x.layout.strides[outerRank...]),
                           offset: 0).collapsed()
        let outerCount = outer.count, innerCount = inner.count
        guard outerCount > 0 else { return }
        check(innerCount > 0 || op == .sum, "\(op.rawValue): cannot reduce over zero elements")

        if x.dtype == .float32, !op.isArg, outer.rank == 1, outer.strides[0] == 1, inner.strides.last != 1,
           outerCount >= simdWidth {
            reduceColumns(op, x.cpuBase(Float.self) + outer.offset, inner: inner, outerCount: outerCount,
                          into: output.cpuPointer(Float.self))
            return
        }

        let innerRuns = StridedRuns([inner])
        let isFloat = x.dtype == .float32
        // Pointers resolved once (each `cpuPointer` is a call through the buffer's existential):
        // short rows, such as a [128, 10] batch of logits, pay per output for whatever is here.
        let floats = UncheckedSendable(x.buffer.cpuPointer(Float.self)), ints = UncheckedSendable(x.buffer.cpuPointer(Int32.self))
        let floatOut = UncheckedSendable(output.cpuPointer(Float.self)), intOut = UncheckedSendable(output.cpuPointer(Int32.self))
        func reduceOne(_ outerOffset: Int, _ range: Range<Int>) -> ReducePartial {
            isFloat
                ? reduceRange(op, floats.value + outerOffset, innerRuns, range)
                : reduceRange(op, ints.value + outerOffset, innerRuns, range)
        }
        func store(_ partial: ReducePartial, at o: Int) {
            if op.isArg {
                intOut.value[o] = Int32(partial.index)
            } else if isFloat {
                floatOut.value[o] = Float(partial.value)
            } else {
                intOut.value[o] = Int32(truncatingIfNeeded: Int64(partial.value))
            }
        }

        let outerRuns = StridedRuns([outer])
        if outerCount < cpuCoreCount && innerCount >= elementwiseGrain * 2 {
            // Few long rows (a full reduction): split each row across cores, then combine in order.
            for o in 0..<outerCount {
                var rowOffset = 0
                outerRuns.forEachRun(in: o..<(o + 1)) { offsets, _ in rowOffset = offsets[0] }
                let chunks = cpuCoreCount * 4
                let chunkSize = (innerCount + chunks - 1) / chunks
                // The partials live on the stack: a full reduction allocates nothing.
                let total = withUnsafeTemporaryAllocation(of: ReducePartial.self, capacity: chunks) { slots -> ReducePartial in
                    let shared = UncheckedSendable(slots)
                    parallelFor(chunks, grain: 1) { chunkRange in
                        for c in chunkRange {
                            let lo = Swift.min(c * chunkSize, innerCount), hi = Swift.min(lo + chunkSize, innerCount)
                            shared.value[c] = lo < hi ? reduceOne(rowOffset, lo..<hi) : ReducePartial(value: .nan, index: -1)
                        }
                    }
                    var combined = slots[0]
                    for c in 1..<chunks where slots[c].index >= 0 { combined = combine(op, combined, slots[c]) }
                    return combined
                }
                store(total, at: o)
            }
            return
        }
        let grain = Swift.max(1, elementwiseGrain / Swift.max(innerCount, 1))
        if isFloat && op != .sum && innerRuns.shape.count == 1 && innerCount <= 64 {
            // Many short float rows (a pool's windows, a batch of logits): compared in Float
            // directly, not through the generic Double partials, with the same NaN and tie rules.
            let innerStride = innerRuns.innerStride(0), innerStart = innerRuns.offsets[0]
            let wantsLarger = op == .max || op == .argmax
            parallelFor(outerCount, grain: grain) { range in
                var o = range.lowerBound
                outerRuns.forEachRun(in: range) { offsets, length in
                    let stride = outerRuns.innerStride(0)
                    shortRowExtrema(floats.value + offsets[0] + innerStart, rows: length, rowStride: stride, count: innerCount,
                                    stride: innerStride, larger: wantsLarger,
                                    values: op.isArg ? nil : floatOut.value + o, indices: op.isArg ? intOut.value + o : nil)
                    o += length
                }
            }
            return
        }
        parallelFor(outerCount, grain: grain) { range in
            // forEachRun visits runs in order, so a counter recovers the flat output index.
            var o = range.lowerBound
            outerRuns.forEachRun(in: range) { offsets, length in
                let start = offsets[0], stride = outerRuns.innerStride(0)
                for i in 0..<length {
                    store(reduceOne(start + i * stride, 0..<innerCount), at: o)
                    o += 1
                }
            }
        }
    }

    /// The maximum (or minimum) of each of `rows` short rows and its first position, as `combine`
/// decides them (a NaN wins and ends the row; ties keep the first), into `values` or `indices`.
/// Eight rows at a time in SIMD lanes: a single row's compare-and-select chain is latency-bound.
@inline(never)
private func shortRowExtrema(_ base: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, count: Int, stride: Int, larger: Bool,
                             values: UnsafeMutablePointer<Float>?, indices: UnsafeMutablePointer<Int32>?) {
    var r = 0
    let lanes = SIMD8<Int>(0, 1, 2, 3, 4, 5, 6, 7) &* rowStride
    while r + 8 <= rows {
        let row = base + r * rowStride
        func column(_ k: Int) -> SIMD8<Float> {
            let p = row + k * stride
            return SIMD8(p[lanes[0]], p[lanes[1]], p[lanes[2]], p[lanes[3]], p[lanes[4]], p[lanes[5]], p[lanes[6]], p[lanes[7]])
        }
        var best = column(0), bestIndex = SIMD8<Int32>(repeating: 0)
        for k in 1..<Swift.max(count, 1) {
            let value = column(k)
            let bestIsNumber = best .== best
            let better = bestIsNumber .& ((value .!= value) .| (larger ? value .> best : value .< best))
            best.replace(with: value, where: better)
            bestIndex.replace(with: Int32(k), where: better)
        }
        if let values { for lane in 0..<8 { values[r + lane] = best[lane] } } else { for lane in 0..<8 { indices![r + lane] = bestIndex[lane] } }
        r += 8
    }
    for r in r..<rows {
        let row = base + r * rowStride
        var best = row[0], bestIndex = 0
        for k in 1..<Swift.max(count, 1) {
            let value = row[k * stride]
            let better = !best.isNaN && (value.isNaN || (larger ? value > best : value < best))
            best = better ? value : best
            bestIndex = better ? k : bestIndex
        }
        if let values { values[r] = best } else { indices![r] = Int32(bestIndex) }
    }
}

/// Reduces strided columns: out[o] = reduce over j of x[o + offset(j)], vectorised across o.
    ///
    /// Work is cut into column blocks whose accumulators stay in L1. With fewer than two blocks
    /// per core, the reduced rows are split between cores as well, so that each core streams
    /// whole rows (sequential memory the hardware prefetcher follows) rather than a narrow strip
    /// of every row; their partial results are then combined in row order. The split depends on
    /// the thread count, so float sums can differ in their last bits between machines (each
    /// partial adds fewer numbers, so they are no less accurate).
    private func reduceColumns(_ op: ReduceOp, _ x: UnsafeMutablePointer<Float>, inner: Layout, outerCount: Int,
                               into output: UnsafeMutablePointer<Float>) {
        let runs = StridedRuns([inner])
        let rows = inner.count
        let blockWidth = 4096  // 16 KB of accumulators
        let blocks = (outerCount + blockWidth - 1) / blockWidth
        let parallel = outerCount * rows >= 2 * elementwiseGrain
        let rowChunks = !parallel || blocks >= 2 * cpuCoreCount ? 1 : Swift.min(cpuCoreCount, Swift.max(1, rows / 8))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (rowChunks - 1) * outerCount)
        defer { scratch.deallocate() }
        let source = UncheckedSendable(x), target = UncheckedSendable(output), partials = UncheckedSendable(scratch)

        func reduceTask(_ task: Int) {
            let chunk = task / blocks, block = task % blocks
            let columns = (block * blockWidth)..<Swift.min(outerCount, (block + 1) * blockWidth)
            let rowRange = (rows * chunk / rowChunks)..<(rows * (chunk + 1) / rowChunks)
            let out = chunk == 0 ? target.value : partials.value + (chunk - 1) * outerCount
            let initial: Float = op == .sum ? 0 : (op == .max ? -.infinity : .infinity)
            for o in columns { out[o] = initial }
            runs.forEachRun(in: rowRange) { offsets, length in
                for j in 0..<length {
                    combineColumns(op, source.value + offsets[0] + j * runs.innerStride(0), into: out, columns)
                }
            }
        }
        let tasks = blocks * rowChunks
        if parallel {
            parallelFor(tasks, grain: 1) { range in range.forEach(reduceTask) }
        } else {
            (0..<tasks).forEach(reduceTask)
        }
        guard rowChunks > 1 else { return }
        parallelFor(outerCount, grain: Swift.max(simdWidth, elementwiseGrain / rowChunks)) { columns in
            for chunk in 1..<rowChunks {
                combineColumns(op, partials.value + (chunk - 1) * outerCount, into: target.value, columns)
            }
        }
    }
}

/// out[o] = op(out[o], row[o]) for o in `columns`.
@inline(__always)
private func combineColumns(_ op: ReduceOp, _ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                            _ columns: Range<Int>) {
    var o = columns.lowerBound
    while o + simdWidth <= columns.upperBound {
        let v = loadVector(row + o), acc = loadVector(out + o)
        let combined: Vector<Float>
        switch op {
        case .sum: combined = acc + v
        case .max: combined = cpuMaximum(acc, v)
        default: combined = cpuMinimum(acc, v)
        }
        storeVector(combined, out + o)
        o += simdWidth
    }
    while o < columns.upperBound {
        let v = row[o]
        switch op {
        case .sum: out[o] += v
        case .max: out[o] = cpuMaximum(out[o], v)
        default: out[o] = cpuMinimum(out[o], v)
        }
        o += 1
    }
}

/// Combines two partials of adjacent ranges (`a` before `b`), keeping the first index on ties.
func combine(_ op: ReduceOp, _ a: ReducePartial, _ b: ReducePartial) -> ReducePartial {
    switch op {
    case .sum: return ReducePartial(value: a.value + b.value, index: 0)
    case .max, .argmax:
        if a.value.isNaN { return a }
        return b.value.isNaN || b.value > a.value ? b : a
    case .min, .argmin:
        if a.value.isNaN { return a }
        return b.value.isNaN || b.value < a.value ? b : a
    }
}

/// Reduces the flat inner elements `range` of one output, starting at `base`.
@inline(__always)
func reduceRange<T: SIMDScalar & BinaryRealOrInteger>(_ op: ReduceOp, _ base: UnsafeMutablePointer<T>,
                                                     _ runs: StridedRuns, _ range: Range<Int>) -> ReducePartial {
    if runs.shape.count == 1 {
        // One strided run (rows of a matrix, a whole vector): no walk to set up.
        let stride = runs.innerStride(0)
        return reduceRun(op, base + runs.offsets[0] + range.lowerBound * stride, stride, range.count, range.lowerBound)
    }
    var result = ReducePartial(value: op == .sum ? 0 : .nan, index: -1)
    var position = range.lowerBound
    runs.forEachRun(in: range) { offsets, length in
        let partial = reduceRun(op, base + offsets[0], runs.innerStride(0), length, position)
        result = result.index < 0 && op != .sum ? partial : combine(op, result, partial)
        position += length
    }
    return result
}

/// Reduces `length` elements at `stride` from `p`; `firstIndex` is the flat index of the first.
@inline(__always)
func reduceRun<T: SIMDScalar & BinaryRealOrInteger>(_ op: ReduceOp, _ p: UnsafeMutablePointer<T>, _ stride: Int,
                                                   _ length: Int, _ firstIndex: Int) -> ReducePartial {
    if op == .sum { return ReducePartial(value: T.sumRun(p, stride, length), index: 0) }
    var best = ReducePartial(value: p[0].asDouble, index: firstIndex)
    var i = 1
    while i < length && !best.value.isNaN {
        best = combine(op, best, ReducePartial(value: p[i * stride].asDouble, index: firstIndex + i))
        i += 1
    }
    return best
}

/// What the generic reduction loop needs of an element type.
protocol BinaryRealOrInteger {
    var asDouble: Double { get }
    /// Sum of `count` elements at `stride`, accurately (float: blocked SIMD sums added in Double).
    static func sumRun(_ p: UnsafeMutablePointer<Self>, _ stride: Int, _ count: Int) -> Double
}

extension Float: BinaryRealOrInteger {
    var asDouble: Double { Double(self) }
    static func sumRun(_ p: UnsafeMutablePointer<Float>, _ stride: Int, _ count: Int) -> Double {
        var total = 0.0
        if stride != 1 {
            for i in 0..<count { total += Double(p[i * stride]) }
            return total
        }
        // Blocks short enough that float rounding stays small; their sums accumulate in Double.
        let block = 4096, width = simdWidth
        var start = 0
        while start < count {
            let end = Swift.min(start + block, count)
            var acc0 = Vector<Float>(), acc1 = Vector<Float>()
            var i = start
            while i + 2 * width <= end {
                acc0 += loadVector(p + i)
                acc1 += loadVector(p + i + width)
                i += 2 * width
            }
            var blockSum = (acc0 + acc1).sum()
            while i < end { blockSum += p[i]; i += 1 }
            total += Double(blockSum)
            start = end
        }
        return total
    }
}

extension Int32: BinaryRealOrInteger {
    var asDouble: Double { Double(self) }
    static func sumRun(_ p: UnsafeMutablePointer<Int32>, _ stride: Int, _ count: Int) -> Double {
        var total: Int64 = 0
        for i in 0..<count { total &+= Int64(p[i * stride]) }
        return Double(total)
    }
}
