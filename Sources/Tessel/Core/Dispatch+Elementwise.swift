extension Dispatch {
    /// `run(op, [x])` for a one-operand op, without making the inputs array when the op takes
    /// the path without bookkeeping (see `elementwiseWithoutBookkeeping`; a reduction of a
    /// healthy tensor that nobody records or observes runs its kernel directly too).
    static func run(_ op: Op, _ x: Tensor) -> Tensor {
        if x.autograd == nil, observer == nil {
            if let output = elementwiseWithoutBookkeeping(op, x, x, into: nil) { return output }
            // A full device (a thrown error) goes to the general path, which reports it.
            if case .reduce(let reduction, let axes) = op, x.storage.failure == nil,
               let output = try? reduce(reduction, x, axes: axes) {
                return output
            }
        }
        return runWithBookkeeping(op, [x])
    }

    /// `run(op, [a, b])` for a two-operand op, without making the inputs array when the op
    /// takes the path without bookkeeping (in place: `updateWithoutBookkeeping`).
    static func run(_ op: Op, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.autograd == nil, b.autograd == nil, observer == nil,
           let output = elementwiseWithoutBookkeeping(op, a, b, into: nil) { return output }
        return runWithBookkeeping(op, [a, b])
    }

    /// The common element-wise case run without the general path's bookkeeping: a unary op
    /// on `a` (`b` is then `a` again) or a binary op on `a` and `b` whose operands need no
    /// cast, are dense in row-major order (broadcasting: a Swift scalar, a bias row), live on
    /// one healthy device and are neither recorded nor observed (the caller checks those two).
    /// Nil when any of that does not hold; the general path then runs the op.
    ///
    /// It writes the same output layout as the general path (row-major, as `empty(like:)`
    /// makes it when the operands are), through the backend's strided kernels or, for dense
    /// runs, its dense-run kernels, which must give the same bits (a test runs every op both
    /// ways on every device). A small op's cost is mostly this layer's: copies of tensors
    /// between functions, each a reference count up and down, and this path makes almost none.
    @inline(__always)
    static func elementwiseWithoutBookkeeping(_ op: Op, _ a: borrowing Tensor, _ b: borrowing Tensor,
                                              into destination: Tensor?) -> Tensor? {
        if let destination {
            guard case .wrote = elementwise(op, a, b, into: destination, inPlace: true) else { return nil }
            return destination
        }
        guard case .made(let output) = elementwise(op, a, b, into: a, inPlace: false) else { return nil }
        return output
    }

    /// `target = op(target, b)` written into `target` itself (`x += y`), on the path without
    /// bookkeeping; false when the general path must run it. The target stays the same tensor,
    /// so, unlike `run(_:_:into:host:)` with a destination, no copy of it is made, returned or
    /// assigned back.
    static func updateWithoutBookkeeping(_ op: Op, _ target: borrowing Tensor, _ b: borrowing Tensor) -> Bool {
        guard target.autograd == nil, b.autograd == nil, observer == nil else { return false }
        guard case .wrote = elementwise(op, target, b, into: target, inPlace: true) else { return false }
        return true
    }

    /// What `launch` did: made a fresh output, wrote into the target, or left the op to the
    /// general path.
    private enum Launched {
        case made(Tensor)
        case wrote
        case declined
    }

    /// The element-wise kernels of `op` (see `elementwiseWithoutBookkeeping`), into `target`
    /// when `inPlace`, else into a fresh output (`target` unused).
    @inline(__always)
    private static func elementwise(_ op: Op, _ a: borrowing Tensor, _ b: borrowing Tensor, into target: borrowing Tensor,
                                    inPlace: Bool) -> Launched {
        switch op {
        case .unary(let unary):
            // One operand: its strided kernel is as cheap as a dense one would be.
            return launch(a, a, dtype: a.storage.dtype, into: target, inPlace: inPlace, takesDenseRuns: false,
                          dense: { _, _, _, _, _ in }) { backend, x, _, output in
                backend.unary(unary, x, into: output)
            }
        case .binary(let binary):
            let type = binary.operandType(a.storage.dtype, b.storage.dtype)
            guard a.storage.dtype == type && b.storage.dtype == type else { return .declined }
            return launch(a, b, dtype: binary.resultType(type, type), into: target, inPlace: inPlace, takesDenseRuns: true,
                          dense: { backend, x, y, output, count in
                backend.binary(binary, dtype: type, x, y, into: output, count: count)
            }) { backend, x, y, output in
                backend.binary(binary, x, y, into: output)
            }
        default:
            return .declined
        }
    }

    /// Checks the conditions of `elementwiseWithoutBookkeeping` for operands `a` and `b` (the
    /// same tensor for a unary op) and runs `kernel` into a fresh row-major output or, when
    /// `inPlace`, into `target`.
    ///
    /// With `takesDenseRuns` (two operands), operands of the output's shape or single elements
    /// broadcast over it are dense runs: they take the backend's dense kernel (`dense`), which
    /// needs no layouts.
    @inline(__always)
    private static func launch(_ a: borrowing Tensor, _ b: borrowing Tensor, dtype: DType, into target: borrowing Tensor,
                               inPlace: Bool, takesDenseRuns: Bool, dense: (any Backend, DenseRun, DenseRun, DenseRun, Int) -> Void,
                               _ kernel: (any Backend, StridedView, StridedView, StridedView) -> Void) -> Launched {
        let storageA = a.storage, storageB = b.storage
        guard storageA.backend === storageB.backend, storageA.failure == nil, storageB.failure == nil,
              a.layout.isContiguous, b.layout.isContiguous else { return .declined }
        // Shapes that do not broadcast go to the general path, which stops with its message.
        let sameShape = a.layout.shape == b.layout.shape
        guard let shape = sameShape ? a.layout.shape : Layout.broadcastShape(a.layout.shape, b.layout.shape) else {
            return .declined
        }
        let backend = storageA.backend
        let count = shape.product
        // A step per operand when both are dense runs of the output: 1 along it, 0 for one element.
        let countA = a.layout.count, countB = b.layout.count
        let denseSteps: (Int, Int)? = sameShape ? (1, 1)
            : (countA == count || countA == 1) && (countB == count || countB == 1) ? (countA == count ? 1 : 0, countB == count ? 1 : 0)
            : nil
        func run(into output: borrowing Tensor) {
            guard count > 0 else { return }
            let written = output.storage
            if takesDenseRuns, let (stepA, stepB) = denseSteps {
                dense(backend, DenseRun(buffer: storageA.buffer, offset: a.layout.offset, step: stepA),
                      DenseRun(buffer: storageB.buffer, offset: b.layout.offset, step: stepB),
                      DenseRun(buffer: written.buffer, offset: output.layout.offset), count)
                return
            }
            let viewA = StridedView(buffer: storageA.buffer, dtype: storageA.dtype, layout: a.layout.broadcast(to: shape, op: ""))
            // An operand passed twice (every unary op, x * x) needs one view, one buffer retain.
            let viewB = storageB === storageA && b.layout == a.layout ? viewA
                : StridedView(buffer: storageB.buffer, dtype: storageB.dtype, layout: b.layout.broadcast(to: shape, op: ""))
            kernel(backend, viewA, viewB, StridedView(buffer: written.buffer, dtype: dtype, layout: output.layout))
        }
        if inPlace {
            let written = target.storage
            // Written straight into the target, as the general path does when no input
            // overlaps it differently.
            guard written.backend === backend, written.failure == nil, !written.isFrozen, written.dtype == dtype,
                  target.layout.isContiguous, target.layout.shape == shape,
                  storageA !== written || a.layout == target.layout,
                  storageB !== written || b.layout == target.layout else { return .declined }
            run(into: target)
            written.bumpVersion()
            return .wrote
        }
        // A full device goes to the general path, which reports it on the result.
        guard let output = try? empty(shape, dtype: dtype, on: backend) else { return .declined }
        run(into: output)
        return .made(output)
    }
}
