// Row-wise kernels of the CPU backend that walk each row in order: running sums and products,
// stable argsort, and byte unpacking.

extension CPUBackend {
    func scan(_ op: ScanOp, _ x: StridedView, into output: StridedView) {
        let rows = RowWalk(x.layout, output.layout)
        if x.dtype == .float32 {
            let source = x.cpuBase(Float.self), target = UncheckedSendable(output.cpuBase(Float.self))
            rows.forEach { input, inputStride, out, outStride in
                var running: Float = op == .sum ? 0 : 1
                for k in 0..<rows.length {
                    running = op == .sum ? running + source[input + k * inputStride] : running * source[input + k * inputStride]
                    target.value[out + k * outStride] = running
                }
            }
        } else {
            let source = x.cpuBase(Int32.self), target = UncheckedSendable(output.cpuBase(Int32.self))
            rows.forEach { input, inputStride, out, outStride in
                var running: Int32 = op == .sum ? 0 : 1
                for k in 0..<rows.length {
                    running = op == .sum ? running &+ source[input + k * inputStride] : running &* source[input + k * inputStride]
                    target.value[out + k * outStride] = running
                }
            }
        }
    }

    func argsort(_ x: StridedView, descending: Bool, into output: StridedView) {
        let rows = RowWalk(x.layout, output.layout)
        let target = UncheckedSendable(output.cpuBase(Int32.self))
        func sortRows<T: Comparable>(_ source: UnsafeMutablePointer<T>, isNaN: @escaping (T) -> Bool) {
            rows.forEach { input, inputStride, out, outStride in
                var order = Array(0..<rows.length)
                // A total order (value, then position), so the result is the stable sort and
                // the same on every backend.
                order.sort { i, j in
                    let a = source[input + i * inputStride], b = source[input + j * inputStride]
                    let aNaN = isNaN(a), bNaN = isNaN(b)
                    if aNaN || bNaN {
                        if aNaN && bNaN { return i < j }
                        return descending ? aNaN : bNaN
                    }
                    if a == b { return i < j }
                    return descending ? a > b : a < b
                }
                for (k, position) in order.enumerated() { target.value[out + k * outStride] = Int32(position) }
            }
        }
        if x.dtype == .float32 {
            sortRows(x.cpuBase(Float.self)) { $0.isNaN }
        } else {
            sortRows(x.cpuBase(Int32.self)) { _ in false }
        }
    }

    func unpackBytes(_ packed: any BackendBuffer, scale: Float, shift: Float, into output: StridedView) {
        let bytes = UnsafePointer(packed.cpuPointer(UInt8.self))
        if output.layout.isContiguous {
            if output.dtype == .float32 {
                widenContiguous(bytes, into: output.cpuBase(Float.self) + output.layout.offset, count: output.count) {
                    shift.addingProduct(Float($0), scale)
                }
            } else {
                widenContiguous(bytes, into: output.cpuBase(Int32.self) + output.layout.offset, count: output.count) { Int32($0) }
            }
            return
        }
        let runs = StridedRuns([Layout(contiguous: output.shape), output.layout])
        let stride = runs.innerStride(1)
        if output.dtype == .float32 {
            let target = UncheckedSendable(output.cpuBase(Float.self))
            parallelFor(output.count, grain: elementwiseGrain) { range in
                runs.forEachRun(in: range) { offsets, length in
                    for i in 0..<length { target.value[offsets[1] + i * stride] = shift.addingProduct(Float(bytes[offsets[0] + i]), scale) }
                }
            }
        } else {
            let target = UncheckedSendable(output.cpuBase(Int32.self))
            parallelFor(output.count, grain: elementwiseGrain) { range in
                runs.forEachRun(in: range) { offsets, length in
                    for i in 0..<length { target.value[offsets[1] + i * stride] = Int32(bytes[offsets[0] + i]) }
                }
            }
        }
    }
}

/// The rows of an input and an output view of one shape, along their last axis: calls
/// `body(inputOffset, inputStride, outputOffset, outputStride)` once per row, rows spread over cores.
struct RowWalk {
    let rows: StridedRuns
    let length: Int
    let inputStride: Int, outputStride: Int
    let count: Int

    init(_ input: Layout, _ output: Layout) {
        let rank = Swift.max(input.rank, 1)
        let shape = input.rank == 0 ? [1] : input.shape
        let inputStrides = input.rank == 0 ? [0] : input.strides, outputStrides = output.rank == 0 ? [0] : output.strides
        length = shape[rank - 1]
        inputStride = inputStrides[rank - 1]
        outputStride = outputStrides[rank - 1]
        // The leading axes, with a last axis of size 1 so that each run is one row start.
        let leading = Array(shape[..<(rank - 1)]) + [1]
        rows = StridedRuns([Layout(shape: leading, strides: Array(inputStrides[..<(rank - 1)]) + [0], offset: input.offset),
                            Layout(shape: leading, strides: Array(outputStrides[..<(rank - 1)]) + [0], offset: output.offset)])
        count = leading.reduce(1, *)
    }

    func forEach(_ body: @escaping (Int, Int, Int, Int) -> Void) {
        guard length > 0 else { return }
        parallelFor(count, grain: Swift.max(1, 4096 / Swift.max(length, 1))) { range in
            rows.forEachRun(in: range) { offsets, runLength in
                // Runs of the collapsed leading axes: consecutive row starts, `rowStep` apart.
                for r in 0..<runLength {
                    body(offsets[0] + r * rows.innerStride(0), inputStride, offsets[1] + r * rows.innerStride(1), outputStride)
                }
            }
        }
    }
}

/// `target[i] = widen(bytes[i])` for `count` elements on all cores, as a plain loop: the
/// optimiser turns it into vector zero-extensions, conversions and fused multiply-adds inline.
/// Swift's SIMD conversions between lane types (`Vector<Int32>(truncatingIfNeeded:)`,
/// `Vector<Float>(_:)`) were out-of-line calls per vector that made widening an MNIST batch
/// ~30 us, 8% of an epoch.
@inline(__always)
private func widenContiguous<T>(_ bytes: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<T>, count: Int,
                                _ widen: (UInt8) -> T) {
    let source = UncheckedSendable(bytes), output = UncheckedSendable(target)
    parallelFor(count, grain: elementwiseGrain) { range in
        for i in range { output.value[i] = widen(source.value[i]) }
    }
}
