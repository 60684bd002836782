// Element-wise ops of the OpenCL backend: copy, cast, unary, binary, select and gather, all
// launched through `launchElementwise` (see `Kernels/elementwise.cl` for the kernel conventions).

extension OpenCLBackend {
    /// Launches `name_1d` or `name_nd` over operands of one shape (inputs first, then the output),
    /// followed by `extra` arguments.
    ///
    /// The layouts are collapsed together first, so contiguous operands (and stride-0 scalars)
    /// take the 1-D kernel.
    func launchElementwise(_ name: String, _ operands: [(buffer: CLBuffer, layout: Layout)], extra: [CLArg] = []) {
        let count = operands[0].layout.count
        guard count > 0 else { return }
        check(count < Int(Int32.max), "\(name): \(count) elements exceed the 32-bit indices of the kernels")
        let collapsed = CollapsedLayouts(operands.map { $0.layout })
        // One array, appended in place: small launches are mostly this host-side work.
        var args: [CLArg] = []
        args.reserveCapacity(2 + 3 * operands.count + extra.count)
        args.append(.int(count))
        if collapsed.shape.count == 1 {
            for (k, operand) in operands.enumerated() {
                args.append(.buffer(operand.buffer))
                args.append(.int(collapsed.offsets[k]))
                args.append(.int(collapsed.stride(k, 0)))
            }
            args.append(contentsOf: extra)
            launcher.launch(kernel(name + "_1d"), count: count, args)
        } else {
            let run = elementwiseRun(count: count)
            args.append(.int(run))
            args.append(CLViewArgs.shape(collapsed.layout(0)))
            for (k, operand) in operands.enumerated() {
                args.append(.buffer(operand.buffer))
                args.append(CLViewArgs.view(collapsed.layout(k)))
            }
            args.append(contentsOf: extra)
            launcher.launch(kernel(name + "_nd"), count: (count + run - 1) / run, groups: run > 1 ? probe.computeUnits * 4 : 1,
                            args)
        }
    }

    /// Elements per work-item of an `_nd` kernel: 1 on GPUs; on CPU drivers runs of up to 4096,
    /// leaving at least 16 work-items per compute unit (on pocl a broadcast add ran ~10x faster
    /// than with one decoded element per work-item).
    func elementwiseRun(count: Int) -> Int {
        guard !probe.isAccelerator else { return 1 }
        return Swift.max(1, Swift.min(4096, count / (probe.computeUnits * 16)))
    }

    /// The operand for `view` (bounds-checked).
    func operand(_ view: StridedView, _ op: String) -> (buffer: CLBuffer, layout: Layout) {
        (checked(view.buffer, view.layout, op), view.layout)
    }


    /// "f" for float32 kernels, "i" for int32 and bool ones.
    static func suffix(_ dtype: DType) -> String { dtype == .float32 ? "f" : "i" }

    public func copy(_ source: StridedView, to destination: StridedView) {
        check(source.shape == destination.shape, "copy: shapes \(source.shape) and \(destination.shape) differ")
        let from = operand(source, "copy"), to = operand(destination, "copy")
        // GPUs keep one element per work-item for transposes too: their writes coalesce.
        if !probe.isAccelerator && source.count > 0 && copyTransposed(from, to) { return }
        launchElementwise("copy_u32", [from, to])
    }

    /// A copy whose source is contiguous along the second-last axis (a transpose), on a CPU
    /// driver: in tiles, see `copy_u32_transposed`. False, launching nothing, for other copies.
    private func copyTransposed(_ from: (buffer: CLBuffer, layout: Layout), _ to: (buffer: CLBuffer, layout: Layout)) -> Bool {
        let layouts = Layout.collapse([from.layout, to.layout]), rank = layouts[0].rank
        guard rank >= 2 && rank - 2 <= CLViewArgs.maxRank && layouts[0].strides[rank - 1] != 1
                && layouts[0].strides[rank - 2] == 1 else { return false }
        let rows = layouts[0].shape[rank - 2], columns = layouts[0].shape[rank - 1], bands = (rows + 31) / 32
        let leading = layouts.map {
            Layout(shape: Dims($0.shape[..<(rank - 2)]), strides: Dims($0.strides[..<(rank - 2)]), offset: $0.offset)
        }
        // Few bands (a short, wide transpose): split the columns into groups too.
        let spread = probe.computeUnits * 4, positions = leading[0].count * bands
        let columnTiles = (columns + 31) / 32
        let groups = Swift.max(1, Swift.min(columnTiles, spread / Swift.max(positions, 1)))
        let tilesPerGroup = (columnTiles + groups - 1) / groups
        let tasks = positions * groups
        launcher.launch(kernel("copy_u32_transposed"), count: tasks, groups: spread,
                        [.int(tasks), .int(bands), .int(groups), .int(tilesPerGroup), .int(rows), .int(columns),
                         CLViewArgs.shape(leading[0]),
                         .buffer(from.buffer), CLViewArgs.view(leading[0]), .int(layouts[0].strides[rank - 1]),
                         .buffer(to.buffer), CLViewArgs.view(leading[1]), .int(layouts[1].strides[rank - 2]),
                         .int(layouts[1].strides[rank - 1])])
        return true
    }

    public func cast(_ source: StridedView, to dtype: DType, into output: StridedView) {
        let name: String
        switch (source.dtype, dtype) {
        case (.float32, .int32): name = "cast_f2i"
        case (.float32, .bool): name = "cast_f2b"
        case (.int32, .float32), (.bool, .float32): name = "cast_i2f"
        case (.int32, .bool): name = "cast_i2b"
        default: name = "copy_u32" // same dtype, or bool -> int32 (already 0 / 1)
        }
        launchElementwise(name, [operand(source, "cast"), operand(output, "cast")])
    }

    public func unary(_ op: UnaryOp, _ x: StridedView, into output: StridedView) {
        if x.dtype != .float32 {
            check([.neg, .abs, .relu, .square].contains(op), "\(op.rawValue): needs a float32 tensor, got \(x.dtype)")
        }
        launchElementwise("unary_\(op.rawValue)_\(Self.suffix(x.dtype))",
                          [operand(x, op.rawValue), operand(output, op.rawValue)])
    }

    public func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        check(a.dtype == b.dtype && a.shape == b.shape,
                     "binary \(op.rawValue): operands differ (\(a.dtype) \(a.shape), \(b.dtype) \(b.shape))")
        // Integer `div` never reaches a backend (true division casts to float32 first).
        let name = op == .div && a.dtype != .float32 ? "floorDivide" : op.rawValue
        launchElementwise("binary_\(name)_\(Self.suffix(a.dtype))",
                          [operand(a, op.rawValue), operand(b, op.rawValue), operand(output, op.rawValue)])
    }

    public func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        check(condition.shape == a.shape && a.shape == b.shape,
                     "select: shapes \(condition.shape), \(a.shape) and \(b.shape) differ")
        launchElementwise("select_u32", [operand(condition, "select"), operand(a, "select"), operand(b, "select"),
                                         operand(output, "select")])
    }

    public func addingProduct(_ x: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        check(x.shape == a.shape && a.shape == b.shape && x.dtype == .float32 && a.dtype == .float32 && b.dtype == .float32,
              "addingProduct: float32 operands of one shape, got \(x.shape), \(a.shape) and \(b.shape)")
        launchElementwise("adding_product_f", [operand(x, "addingProduct"), operand(a, "addingProduct"), operand(b, "addingProduct"),
                                               operand(output, "addingProduct")])
    }

    public func gather(_ x: StridedView, axis: Int, index: StridedView, into output: StridedView) {
        check(axis >= 0 && axis < x.layout.rank && index.layout.rank == x.layout.rank,
              "gather: axis \(axis) of \(x.shape) with index \(index.shape)")
        let source = checked(x.buffer, x.layout, "gather")
        launchElementwise("gather_u32", [operand(index, "gather"), (source, frozen(x.layout, axis, index.shape)),
                                         operand(output, "gather")],
                          extra: indexFaultArgs("gather", axis: axis, stride: x.layout.strides[axis], size: x.shape[axis]))
        indexFaults.markLaunched()
    }

    public func scatterAdd(into output: StridedView, axis: Int, index: StridedView, source: StridedView) {
        check(axis >= 0 && axis < output.layout.rank && index.layout.rank == output.layout.rank && source.shape == index.shape,
              "scatterAdd: axis \(axis) of \(output.shape) with index \(index.shape) and source \(source.shape)")
        let target = checked(output.buffer, output.layout, "scatterAdd")
        launchElementwise("scatter_add_\(Self.suffix(output.dtype))",
                          [operand(index, "scatterAdd"), operand(source, "scatterAdd"),
                           (target, frozen(output.layout, axis, index.shape))],
                          extra: indexFaultArgs("scatterAdd", axis: axis, stride: output.layout.strides[axis],
                                                size: output.shape[axis]))
        indexFaults.markLaunched()
    }

    /// The arguments after the views of a gather or scatter kernel: the indexed axis's stride
    /// and size, then where a bad index is reported.
    private func indexFaultArgs(_ op: String, axis: Int, stride: Int, size: Int) -> [CLArg] {
        [.int(stride), .int(size)] + indexFaults.arguments(op: op, axis: axis)
    }

    /// `layout` seen with `shape` and the indexed axis frozen at 0 (see Kernels/gather.cl).
    private func frozen(_ layout: Layout, _ axis: Int, _ shape: Dims) -> Layout {
        var frozen = layout
        frozen.shape = shape
        frozen.strides[axis] = 0
        return frozen
    }
}
