// Row-wise kernels of the OpenCL backend (`Kernels/scan.cl`): one work-item walks one row.

extension OpenCLBackend {
    public func scan(_ op: ScanOp, _ x: StridedView, into output: StridedView) {
        launchRows("scan_\(op.rawValue)_\(Self.suffix(x.dtype))", x, output, extra: [])
    }

    public func argsort(_ x: StridedView, descending: Bool, into output: StridedView) {
        let rows = x.layout.rank == 0 ? 1 : x.count / Swift.max(x.shape[x.layout.rank - 1], 1)
        let length = x.layout.rank == 0 ? 1 : x.shape[x.layout.rank - 1]
        let scratch = allocator.allocate(count: Swift.max(2 * rows * length, 1))
        launchRows("argsort_\(Self.suffix(x.dtype))", x, output, extra: [.buffer(scratch), .int(descending ? 1 : 0)])
    }

    public func unpackBytes(_ packed: any BackendBuffer, scale: Float, shift: Float, into output: StridedView) {
        guard output.count > 0 else { return }
        let target = checked(output.buffer, output.layout, "fromBytes")
        if output.layout.isContiguous {
            let words = (output.count + 3) / 4, run = elementwiseRun(count: words)
            launcher.launch(kernel("unpack_bytes_dense_\(Self.suffix(output.dtype))"), count: (words + run - 1) / run,
                            groups: run > 1 ? probe.computeUnits * 4 : 1, [.int(output.count), .int(run), .buffer(clBuffer(packed)), .buffer(target), .int(output.layout.offset),
                             .uint(scale.bitPattern), .uint(shift.bitPattern)])
            return
        }
        let layout = output.layout.rank == 0 ? Layout(shape: [1], strides: [1], offset: output.layout.offset) : output.layout
        check(layout.rank <= CLViewArgs.maxRank, "fromBytes: at most \(CLViewArgs.maxRank) axes, got \(output.shape)")
        launcher.launch(kernel("unpack_bytes_\(Self.suffix(output.dtype))"), count: output.count,
                        [.int(output.count), CLViewArgs.shape(layout), .buffer(clBuffer(packed)), .buffer(target), CLViewArgs.view(layout),
                         .uint(scale.bitPattern), .uint(shift.bitPattern)])
    }

    /// Launches a row kernel: the leading axes of `x` and `output` (shape `so`) index the rows,
    /// the last axis is walked by each work-item.
    private func launchRows(_ name: String, _ x: StridedView, _ output: StridedView, extra: [CLArg]) {
        guard x.count > 0 else { return }
        let input = x.layout.rank == 0 ? Layout(shape: [1], strides: [1], offset: x.layout.offset) : x.layout
        let result = output.layout.rank == 0 ? Layout(shape: [1], strides: [1], offset: output.layout.offset) : output.layout
        let rank = input.rank, length = input.shape[rank - 1]
        func leading(_ layout: Layout) -> Layout {
            rank == 1 ? Layout(shape: [1], strides: [0], offset: layout.offset)
                      : Layout(shape: Dims(layout.shape.dropLast()), strides: Dims(layout.strides.dropLast()), offset: layout.offset)
        }
        let rowsIn = leading(input), rowsOut = leading(result)
        let source = checked(x.buffer, x.layout, name), target = checked(output.buffer, output.layout, name)
        launcher.launch(kernel(name), count: rowsIn.count,
                        [.int(rowsIn.count), .int(length), CLViewArgs.shape(rowsIn), .buffer(source), CLViewArgs.view(rowsIn),
                         .int(input.strides[rank - 1]), .buffer(target), CLViewArgs.view(rowsOut), .int(result.strides[rank - 1])]
                            + extra)
    }
}
