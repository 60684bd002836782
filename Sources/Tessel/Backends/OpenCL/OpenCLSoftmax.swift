// Softmax rows of the OpenCL backend (kernels in `Kernels/softmax.cl`).

extension OpenCLBackend {
    public func softmax(_ x: StridedView, log: Bool, into output: any BackendBuffer) {
        softmax(x, log: log, into: output, strategy: defaultReduceStrategy)
    }

    /// `softmax` with a chosen strategy (tests run both on any device): work-groups per row on
    /// GPUs, one work-item per row on CPU drivers (as for reductions).
    func softmax(_ x: StridedView, log: Bool, into output: any BackendBuffer, strategy: ReduceStrategy) {
        check(x.dtype == .float32 && x.layout.rank >= 1, "softmax: expects float32 rows, got \(x.dtype) \(x.shape)")
        let op = log ? "logSoftmax" : "softmax"
        let source = checked(x.buffer, x.layout, op)
        let columns = x.shape[x.layout.rank - 1]
        guard columns > 0, x.count > 0 else { return }
        check(x.count < Int(Int32.max), "\(op): \(x.count) elements exceed the 32-bit indices of the kernels")
        let rows = x.count / columns
        let target = checked(output, Layout(contiguous: [rows, columns]), op)
        let outer = Layout(shape: Dims(x.shape.dropLast()), strides: Dims(x.layout.strides.dropLast()),
                           offset: x.layout.offset).collapsed()
        let args: [CLArg] = [.int(rows), .int(columns), .int(x.layout.strides[x.layout.rank - 1]),
                             CLViewArgs.shape(outer), CLViewArgs.view(outer), .buffer(source), .buffer(target),
                             .int(log ? 1 : 0)]
        if strategy == .workGroups {
            let groupKernel = kernel("softmax_groups")
            // Whole warps, and no more work-items than a row has elements.
            var local = groupKernel.workGroupSize(preferred: 256)
            while local > 32 && local / 2 >= columns { local /= 2 }
            launcher.launch(groupKernel, global: [rows * local], local: [local], args + [.local(bytes: local * 4)])
        } else {
            launcher.launch(kernel("softmax_items"), count: rows, groups: probe.computeUnits * 4, args)
        }
    }
}
