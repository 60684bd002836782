extension CPUBackend {
    func gather(_ x: StridedView, axis: Int, index: StridedView, into output: any BackendBuffer) {
        // View x with the gathered axis frozen at 0 (stride 0): the walk then yields, for each
        // output element, x's offset except along `axis`, which the index supplies.
        var frozen = x.layout
        frozen.shape = index.shape
        frozen.strides[axis] = 0
        let axisStride = x.layout.strides[axis], axisSize = x.shape[axis]
        let runs = StridedRuns([index.layout, frozen, Layout(contiguous: index.shape)])
        let indices = index.cpuBase(Int32.self), source = x.cpuBase(UInt32.self)
        let out = UncheckedSendable(output.cpuPointer(UInt32.self))
        let strides = (0..<2).map(runs.innerStride)
        parallelFor(index.count, grain: elementwiseGrain) { range in
            runs.forEachRun(in: range) { offsets, length in
                for i in 0..<length {
                    let position = Int(indices[offsets[0] + i * strides[0]])
                    precondition(position >= 0 && position < axisSize,
                                 "gather: index \(position) out of range for axis \(axis) of size \(axisSize)")
                    out.value[offsets[2] + i] = source[offsets[1] + i * strides[1] + position * axisStride]
                }
            }
        }
    }
}
