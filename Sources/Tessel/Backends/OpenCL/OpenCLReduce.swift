// Reductions of the OpenCL backend (kernels in `Kernels/reduce.cl`).

extension OpenCLBackend {
    /// Rows at least this long are reduced by work-groups in local memory, shorter ones by one
    /// work-item each.
    static let groupReduceThreshold = 256
    /// Elements each work-item of a group reduction adds before the tree: small enough that a float
    /// sum stays accurate, large enough that the partials are few.
    static let elementsPerWorkItem = 64

    public func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer) {
        precondition(reducedRank >= 0 && reducedRank <= x.layout.rank, "\(op.rawValue): cannot reduce \(reducedRank) axes of \(x.shape)")
        let source = checked(x.buffer, x.layout, op.rawValue)
        let outerRank = x.layout.rank - reducedRank
        let outer = Layout(shape: Array(x.shape[..<outerRank]), strides: Array(x.layout.strides[..<outerRank]),
                           offset: x.layout.offset).collapsed()
        let inner = Layout(shape: Array(x.shape[outerRank...]), strides: Array(x.layout.strides[outerRank...]),
                           offset: 0).collapsed()
        guard outer.count > 0 else { return }
        precondition(inner.count > 0 || op == .sum, "\(op.rawValue): cannot reduce over zero elements")
        precondition(x.count < Int(Int32.max), "\(op.rawValue): \(x.count) elements exceed the 32-bit indices of the kernels")
        let target = checked(output, Layout(contiguous: [outer.count]), op.rawValue)

        if outer.rank > CLViewArgs.maxRank || inner.rank > CLViewArgs.maxRank {
            // Too many axes to decode: reduce a contiguous copy instead (then both parts are rank 1).
            let copy = allocator.allocate(count: x.count)
            self.copy(x, to: StridedView(buffer: copy, dtype: x.dtype, layout: Layout(contiguous: x.shape)))
            reduce(op, StridedView(buffer: copy, dtype: x.dtype, layout: Layout(contiguous: x.shape)),
                   reducedRank: reducedRank, into: output)
            return
        }
        let family: String
        switch op {
        case .sum: family = "reduce_sum"
        case .max, .argmax: family = "reduce_max"
        case .min, .argmin: family = "reduce_min"
        }
        reduceRows("\(family)_\(Self.suffix(x.dtype))", source: source, sourceIndex: nil, outer: outer, inner: inner,
                   into: target, writeValue: !op.isArg)
    }

    /// Reduces each row (`inner`) of `source` at every `outer` position into `output`: values
    /// when `writeValue`, else indices. `sourceIndex`, when given, holds the index each element
    /// stands for (the partials of a first pass).
    private func reduceRows(_ name: String, source: CLBuffer, sourceIndex: CLBuffer?, outer: Layout, inner: Layout,
                            into output: CLBuffer, writeValue: Bool) {
        let outputs = outer.count, rowLength = inner.count
        let views: [CLArg] = [CLViewArgs.shape(outer), CLViewArgs.view(outer), CLViewArgs.shape(inner), CLViewArgs.view(inner)]
        func tail(_ value: CLBuffer, _ index: CLBuffer, writeValue: Bool, writeIndex: Bool) -> [CLArg] {
            [.buffer(source), .buffer(sourceIndex ?? source), .int(sourceIndex == nil ? 0 : 1),
             .buffer(value), .buffer(index), .int(writeValue ? 1 : 0), .int(writeIndex ? 1 : 0)]
        }
        if rowLength < Self.groupReduceThreshold {
            launcher.launch(kernel(name + "_rows"), count: outputs,
                            [.int(outputs), .int(rowLength)] + views + tail(output, output, writeValue: writeValue, writeIndex: !writeValue))
            return
        }
        let groupKernel = kernel(name + "_groups")
        let local = groupKernel.workGroupSize(preferred: 256)
        let groups = (rowLength + local * Self.elementsPerWorkItem - 1) / (local * Self.elementsPerWorkItem)
        let chunk = (rowLength + groups - 1) / groups
        let groupsPerOutput = (rowLength + chunk - 1) / chunk
        let localMemory: [CLArg] = [.local(bytes: local * 4), .local(bytes: local * 4)]
        func launchGroups(_ tail: [CLArg]) {
            launcher.launch(groupKernel, global: [outputs * groupsPerOutput * local], local: [local],
                            [.int(groupsPerOutput), .int(chunk), .int(rowLength)] + views + tail + localMemory)
        }
        if groupsPerOutput == 1 {
            launchGroups(tail(output, output, writeValue: writeValue, writeIndex: !writeValue))
            return
        }
        // Two passes: partial (value, index) pairs per group, then a reduction of each output's
        // partials. The temporaries go back to the pool as this returns, which is safe on an
        // in-order queue (see CLAllocator).
        let partialValues = allocator.allocate(count: outputs * groupsPerOutput)
        let partialIndices = allocator.allocate(count: outputs * groupsPerOutput)
        launchGroups(tail(partialValues, partialIndices, writeValue: true, writeIndex: true))
        reduceRows(name, source: partialValues, sourceIndex: partialIndices,
                   outer: Layout(shape: [outputs], strides: [groupsPerOutput], offset: 0),
                   inner: Layout(contiguous: [groupsPerOutput]), into: output, writeValue: writeValue)
    }
}
