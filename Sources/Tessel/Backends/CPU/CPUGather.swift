import CTesselCPU

extension CPUBackend {
    func gather(_ x: StridedView, axis: Int, index: StridedView, into output: StridedView) {
        if axis == 0 && gatherRows(x, index: index, into: output) { return }
        // View x with the gathered axis frozen at 0 (stride 0): the walk then yields, for each
        // output element, x's offset except along `axis`, which the index supplies.
        let frozen = frozenAlong(axis, x.layout, shape: index.shape)
        let axisStride = x.layout.strides[axis], axisSize = x.shape[axis]
        let runs = StridedRuns([index.layout, frozen, output.layout])
        let indices = index.cpuBase(Int32.self), source = x.cpuBase(UInt32.self)
        let out = UncheckedSendable(output.cpuBase(UInt32.self))
        let (indexStride, sourceStride, outputStride) = (runs.innerStride(0), runs.innerStride(1), runs.innerStride(2))
        parallelFor(index.count, grain: elementwiseGrain) { range in
            runs.forEachRun(in: range) { offsets, length in
                let positions = indices + offsets[0], from = source + offsets[1], to = out.value + offsets[2]
                if indexStride == 0 && sourceStride == 1 && outputStride == 1 {
                    // One position for the whole run (indexSelect's rows, a batch of images):
                    // a row copy instead of a lookup per element.
                    let position = Int(positions[0])
                    if position < 0 || position >= axisSize { indexOutOfRange("gather", position, axis: axis, size: axisSize) }
                    to.update(from: from + position * axisStride, count: length)
                } else if indexStride == 1 && sourceStride == 1 && outputStride == 1 {
                    // Dense runs (whole pixels of a channels-last image): no stride per element.
                    for i in 0..<length {
                        let position = Int(positions[i])
                        if position < 0 || position >= axisSize { indexOutOfRange("gather", position, axis: axis, size: axisSize) }
                        to[i] = from[i &+ position &* axisStride]
                    }
                } else {
                    for i in 0..<length {
                        let position = Int(positions[i &* indexStride])
                        if position < 0 || position >= axisSize { indexOutOfRange("gather", position, axis: axis, size: axisSize) }
                        to[i &* outputStride] = from[i &* sourceStride &+ position &* axisStride]
                    }
                }
            }
        }
    }

    /// `indexSelect` along the first axis of a contiguous tensor (a batch of images from a
    /// dataset): whole rows copied, the rows a few positions ahead prefetched, since rows picked
    /// at random from a large set each start with a cache miss that the hardware prefetcher
    /// cannot foresee. False, doing nothing, for any other gather.
    private func gatherRows(_ x: StridedView, index: StridedView, into output: StridedView) -> Bool {
        let rank = index.layout.rank
        guard rank >= 1, x.layout.isContiguous, output.layout.isContiguous, index.layout.shape == output.layout.shape,
              (1..<rank).allSatisfy({ index.layout.strides[$0] == 0 }) else { return false }
        let rows = index.shape[0], rowLength = rows == 0 ? 0 : output.count / rows, axisSize = x.shape[0]
        let positions = UncheckedSendable(index.cpuBase(Int32.self) + index.layout.offset), step = index.layout.strides[0]
        let source = UncheckedSendable(x.cpuBase(UInt32.self) + x.layout.offset)
        let target = UncheckedSendable(output.cpuBase(UInt32.self) + output.layout.offset)
        // Up to 4 KB of each row ahead: past that the hardware prefetcher follows the row.
        let prefetchedBytes = Swift.min(rowLength * 4, 4096), lookahead = 4
        parallelFor(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(rowLength, 1))) { range in
            for row in range {
                if row + lookahead < range.upperBound {
                    let ahead = Int(positions.value[(row + lookahead) &* step])
                    if ahead >= 0 && ahead < axisSize {
                        let start = UnsafeRawPointer(source.value + ahead &* rowLength)
                        for byte in stride(from: 0, to: prefetchedBytes, by: 64) { tessel_prefetch(start + byte) }
                    }
                }
                let position = Int(positions.value[row &* step])
                if position < 0 || position >= axisSize { indexOutOfRange("gather", position, axis: 0, size: axisSize) }
                (target.value + row &* rowLength).update(from: source.value + position &* rowLength, count: rowLength)
            }
        }
        return true
    }

    func scatterAdd(into output: StridedView, axis: Int, index: StridedView, source: StridedView) {
        let frozen = frozenAlong(axis, output.layout, shape: index.shape)
        let axisStride = output.layout.strides[axis], axisSize = output.shape[axis]
        let runs = StridedRuns([index.layout, source.layout, frozen])
        let indices = index.cpuBase(Int32.self)
        let (indexStride, sourceStride, outputStride) = (runs.innerStride(0), runs.innerStride(1), runs.innerStride(2))
        if output.dtype == .float32 {
            let values = UncheckedSendable(source.cpuBase(Float.self)), target = UncheckedSendable(output.cpuBase(Float.self))
            let positions = UncheckedSendable(indices)
            /// Adds the source elements of `range` (row-major over the index) in order.
            func add(_ range: Range<Int>) {
                runs.forEachRun(in: range) { offsets, length in
                    let at = positions.value + offsets[0], from = values.value + offsets[1], to = target.value + offsets[2]
                    if indexStride == 1 && sourceStride == 1 && outputStride == 1 {
                        // Dense runs (whole pixels of a channels-last image): no stride per element.
                        for i in 0..<length {
                            let position = Int(at[i])
                            if position < 0 || position >= axisSize { indexOutOfRange("scatterAdd", position, axis: axis, size: axisSize) }
                            to[i &+ position &* axisStride] += from[i]
                        }
                        return
                    }
                    for i in 0..<length {
                        let position = Int(at[i &* indexStride])
                        if position < 0 || position >= axisSize { indexOutOfRange("scatterAdd", position, axis: axis, size: axisSize) }
                        to[i &* outputStride &+ position &* axisStride] += from[i &* sourceStride]
                    }
                }
            }
            if index.shape[axis] == 1 && output.layout.hasNoSelfOverlap {
                // One index per output row (a gather's gradient): every element lands in its own
                // row, so threads never meet and each output element gets at most one addition.
                parallelFor(index.count, grain: elementwiseGrain, add)
            } else if axis != 0 && index.shape[0] > 1 && output.layout.hasNoSelfOverlap {
                // Slices along the first axis land in different output rows: one thread per
                // slice group, each adding its own elements in order (the same sums every run).
                let slice = index.count / index.shape[0]
                parallelFor(index.shape[0], grain: Swift.max(1, elementwiseGrain / Swift.max(slice, 1))) { slices in
                    add(slices.lowerBound * slice..<slices.upperBound * slice)
                }
            } else {
                // One thread: repeated indices from different threads would race on their sums,
                // and the order of the additions (hence float rounding) stays the same run to run.
                add(0..<index.count)
            }
        } else {
            let values = source.cpuBase(Int32.self), target = output.cpuBase(Int32.self)
            runs.forEachRun(in: 0..<index.count) { offsets, length in
                for i in 0..<length {
                    let position = Int(indices[offsets[0] + i * indexStride])
                    if position < 0 || position >= axisSize { indexOutOfRange("scatterAdd", position, axis: axis, size: axisSize) }
                    target[offsets[2] + i * outputStride + position * axisStride] &+= values[offsets[1] + i * sourceStride]
                }
            }
        }
    }

    /// `layout` seen with `shape` and the axis `axis` frozen at position 0 (stride 0).
    private func frozenAlong(_ axis: Int, _ layout: Layout, shape: Dims) -> Layout {
        var frozen = layout
        frozen.shape = shape
        frozen.strides[axis] = 0
        return frozen
    }
}

/// The stop for an index outside its axis: one message on every backend.
func indexOutOfRange(_ op: String, _ position: Int, axis: Int, size: Int) -> Never {
    checkFailure("\(op): index \(position) is out of range for axis \(axis) of size \(size)")
}
