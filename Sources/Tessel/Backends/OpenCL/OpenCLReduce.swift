// Reductions of the OpenCL backend (kernels in `Kernels/reduce.cl`).

extension OpenCLBackend {
    /// How a reduction spreads over the device (see `Kernels/reduce.cl`).
    enum ReduceStrategy: CaseIterable {
        /// One work-item per piece of a row, no barriers: CPU drivers, where a work-group's
        /// work-items run as a loop and every barrier splits that loop.
        case workItems
        /// Work-groups reduce long contiguous rows in local memory: GPUs.
        case workGroups
    }

    /// GPUs and accelerators reduce long contiguous rows with work-groups; CPU drivers never do.
    var defaultReduceStrategy: ReduceStrategy { probe.isAccelerator ? .workGroups : .workItems }

    /// Rows at least this long (a warp; and contiguous) are reduced by work-groups under
    /// `.workGroups`: one work-item per short row would read addresses a row apart.
    static let groupReduceThreshold = 32
    /// Rows each work-item of a column sum walks: on pocl (2 cores, [16384, 1024] over the
    /// first axis) 512 rows ran at ~12 GB/s, 128 at ~11, a whole column at ~6 (the partials
    /// cost little next to reading the rows).
    static let columnChunk = 512
    /// Elements each work-item of a group reduction adds before the tree: small enough that a float
    /// sum stays accurate, large enough that the partials are few.
    static let elementsPerWorkItem = 64

    public func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer) {
        reduce(op, x, reducedRank: reducedRank, into: output, strategy: defaultReduceStrategy)
    }

    /// `reduce` with a chosen strategy (tests run both on any device).
    func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer, strategy: ReduceStrategy) {
        check(reducedRank >= 0 && reducedRank <= x.layout.rank, "\(op.rawValue): cannot reduce \(reducedRank) axes of \(x.shape)")
        let source = checked(x.buffer, x.layout, op.rawValue)
        let outerRank = x.layout.rank - reducedRank
        let outer = Layout(shape: Dims(x.shape[..<outerRank]), strides: Dims(x.layout.strides[..<outerRank]),
                           offset: x.layout.offset).collapsed()
        let inner = Layout(shape: Dims(x.shape[outerRank...]), strides: Dims(x.layout.strides[outerRank...]),
                           offset: 0).collapsed()
        guard outer.count > 0 else { return }
        check(inner.count > 0 || op == .sum, "\(op.rawValue): cannot reduce over zero elements")
        check(x.count < Int(Int32.max), "\(op.rawValue): \(x.count) elements exceed the 32-bit indices of the kernels")
        let target = checked(output, Layout(contiguous: [outer.count]), op.rawValue)

        let family: String
        switch op {
        case .sum: family = "reduce_sum"
        case .max, .argmax: family = "reduce_max"
        case .min, .argmin: family = "reduce_min"
        }
        reduceRows("\(family)_\(Self.suffix(x.dtype))", source: source, sourceIndex: nil, outer: outer, inner: inner,
                   into: target, writeValue: !op.isArg, strategy: strategy)
    }

    /// Reduces each row (`inner`) of `source` at every `outer` position into `output`: values
    /// when `writeValue`, else indices. `sourceIndex`, when given, holds the index each element
    /// stands for (the partials of a first pass).
    private func reduceRows(_ name: String, source: CLBuffer, sourceIndex: CLBuffer?, outer: Layout, inner: Layout,
                            into output: CLBuffer, writeValue: Bool, strategy: ReduceStrategy) {
        let outputs = outer.count, rowLength = inner.count
        let views: [CLArg] = [CLViewArgs.shape(outer), CLViewArgs.view(outer), CLViewArgs.shape(inner), CLViewArgs.view(inner)]
        func tail(_ value: CLBuffer, _ index: CLBuffer, writeValue: Bool, writeIndex: Bool) -> [CLArg] {
            [.buffer(source), .buffer(sourceIndex ?? source), .int(sourceIndex == nil ? 0 : 1),
             .buffer(value), .buffer(index), .int(writeValue ? 1 : 0), .int(writeIndex ? 1 : 0)]
        }
        let contiguousRows = inner.rank == 1 && inner.strides[0] == 1
        // A few work-groups per compute unit: work-items of the chunk kernels each walk a long
        // run, and GPUs need several groups per SM.
        let spread = probe.computeUnits * 4
        let pieces: Int, chunk: Int
        let launchPieces: ([CLArg]) -> Void
        if strategy == .workGroups && contiguousRows && rowLength >= Self.groupReduceThreshold {
            let groupKernel = kernel(name + "_groups")
            // No more work-items than the row has elements (rows of 32..255 get one warp or a few).
            var local = groupKernel.workGroupSize(preferred: 256)
            while local > Self.groupReduceThreshold && local / 2 >= rowLength { local /= 2 }
            // Enough groups to fill the device even when there are few rows (a [8, 16384] sum
            // would otherwise use 8 of 132 SMs), but no group shorter than its work-items.
            let filling = (spread + outputs - 1) / outputs
            let groups = Swift.max((rowLength + local * Self.elementsPerWorkItem - 1) / (local * Self.elementsPerWorkItem),
                                   Swift.min(filling, rowLength / local))
            chunk = (rowLength + groups - 1) / groups
            pieces = (rowLength + chunk - 1) / chunk
            let localMemory: [CLArg] = [.local(bytes: local * 4), .local(bytes: local * 4)]
            launchPieces = { [launcher] tail in
                launcher.launch(groupKernel, global: [outputs * pieces * local], local: [local],
                                [.int(pieces), .int(chunk), .int(rowLength)] + views + tail + localMemory)
            }
        } else if strategy == .workItems && name.hasPrefix("reduce_sum") && !contiguousRows && outer.rank == 1
                    && outer.strides[0] == 1 && outputs >= 64 {
            // Adjacent outputs (a sum over leading axes): 64 columns per work-item.
            let blocks = (outputs + 63) / 64
            chunk = Swift.min(rowLength, Self.columnChunk)
            pieces = Swift.max(1, (rowLength + chunk - 1) / chunk)
            let columnKernel = kernel(name + "_columns")
            launchPieces = { [launcher] tail in
                launcher.launch(columnKernel, count: blocks * pieces, groups: spread,
                                [.int(outputs), .int(chunk), .int(pieces), .int(rowLength)] + views + tail)
            }
        } else {
            chunk = chunkLength(outputs: outputs, rowLength: rowLength, contiguous: contiguousRows)
            pieces = Swift.max(1, (rowLength + chunk - 1) / chunk)
            let chunkKernel = kernel(name + "_chunks")
            launchPieces = { [launcher] tail in
                launcher.launch(chunkKernel, count: outputs * pieces, groups: spread,
                                [.int(outputs), .int(chunk), .int(pieces), .int(rowLength)] + views + tail)
            }
        }
        if pieces == 1 {
            launchPieces(tail(output, output, writeValue: writeValue, writeIndex: !writeValue))
            return
        }
        // Two passes: partial (value, index) pairs per piece, then a reduction of each output's
        // partials. The temporaries go back to the pool as this returns, which is safe on an
        // in-order queue (see CLAllocator).
        let partialValues = allocator.allocate(count: outputs * pieces)
        // Sums carry no indices: their kernels never touch the index buffer.
        let partialIndices = name.hasPrefix("reduce_sum") ? partialValues : allocator.allocate(count: outputs * pieces)
        launchPieces(tail(partialValues, partialIndices, writeValue: true, writeIndex: true))
        reduceRows(name, source: partialValues, sourceIndex: partialIndices,
                   outer: Layout(shape: [outputs], strides: [pieces], offset: 0),
                   inner: Layout(contiguous: [pieces]), into: output, writeValue: writeValue, strategy: strategy)
    }

    /// Elements per work-item under the work-item strategy: enough work-items to fill the
    /// device (a few per core on CPU drivers, thousands per compute unit on GPUs), each with a
    /// long enough run to amortise its start, and short enough that a float sum stays accurate.
    private func chunkLength(outputs: Int, rowLength: Int, contiguous: Bool) -> Int {
        let wantedItems = probe.computeUnits * (probe.isAccelerator ? 2048 : 8)
        let shortest = probe.isAccelerator ? 64 : (contiguous ? 4096 : 256)
        let longest = 1 << 16
        let perOutput = (wantedItems + outputs - 1) / outputs
        let chunk = (rowLength + perOutput - 1) / Swift.max(perOutput, 1)
        return Swift.max(1, Swift.min(Swift.max(chunk, Swift.min(shortest, rowLength)), longest))
    }
}
