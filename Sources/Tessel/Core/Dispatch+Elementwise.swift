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

    /// `run(op, [a, b], into: destination)` for a two-operand op, without making the inputs
    /// array when the op takes the path without bookkeeping.
    static func run(_ op: Op, _ a: Tensor, _ b: Tensor, into destination: Tensor? = nil) -> Tensor {
        if a.autograd == nil, b.autograd == nil, destination?.autograd == nil, observer == nil,
           let output = elementwiseWithoutBookkeeping(op, a, b, into: destination) { return output }
        return runWithBookkeeping(op, [a, b], into: destination)
    }

    /// The common element-wise case run without the general path's bookkeeping: a unary op
    /// on `a` (`b` is then `a` again) or a binary op on `a` and `b` whose operands need no
    /// cast, are dense in row-major order (broadcasting: a Swift scalar, a bias row), live on
    /// one healthy device and are neither recorded nor observed (the caller checks those two).
    /// Nil when any of that does not hold; the general path then runs the op.
    ///
    /// It launches the same kernel into the same output layout as the general path (the
    /// output is row-major, as `empty(like:)` makes it when the operands are), so the two
    /// cannot disagree. A small op's cost is mostly this layer's: copies of
    /// tensors between functions, each a reference count up and down, and this path makes
    /// almost none.
    @inline(__always)
    static func elementwiseWithoutBookkeeping(_ op: Op, _ a: borrowing Tensor, _ b: borrowing Tensor,
                                              into destination: Tensor?) -> Tensor? {
        switch op {
        case .unary(let unary):
            return launch(a, a, dtype: a.storage.dtype, into: destination) { backend, x, _, output in
                backend.unary(unary, x, into: output)
            }
        case .binary(let binary):
            let type = binary.operandType(a.storage.dtype, b.storage.dtype)
            guard a.storage.dtype == type && b.storage.dtype == type else { return nil }
            return launch(a, b, dtype: binary.resultType(type, type), into: destination) { backend, x, y, output in
                backend.binary(binary, x, y, into: output)
            }
        default:
            return nil
        }
    }

    /// Checks the conditions of `elementwiseWithoutBookkeeping` for operands `a` and `b` (the
    /// same tensor for a unary op) and runs `kernel` into a fresh row-major output or into
    /// `destination`.
    @inline(__always)
    private static func launch(_ a: borrowing Tensor, _ b: borrowing Tensor, dtype: DType, into destination: Tensor?,
                               _ kernel: (any Backend, StridedView, StridedView, StridedView) -> Void) -> Tensor? {
        let storageA = a.storage, storageB = b.storage
        guard storageA.backend === storageB.backend, storageA.failure == nil, storageB.failure == nil,
              a.layout.isContiguous, b.layout.isContiguous else { return nil }
        // Shapes that do not broadcast go to the general path, which stops with its message.
        guard let shape = Layout.broadcastShape(a.layout.shape, b.layout.shape) else { return nil }
        let layoutA = a.layout.broadcast(to: shape, op: ""), layoutB = b.layout.broadcast(to: shape, op: "")
        let backend = storageA.backend
        let viewA = StridedView(buffer: storageA.buffer, dtype: storageA.dtype, layout: layoutA)
        let viewB = StridedView(buffer: storageB.buffer, dtype: storageB.dtype, layout: layoutB)
        if let destination {
            let target = destination.storage
            // Written straight into the destination, as the general path does when no input
            // overlaps it differently.
            guard target.backend === backend, target.failure == nil, !target.isFrozen, target.dtype == dtype,
                  destination.layout.isContiguous, destination.layout.shape == shape,
                  storageA !== target || a.layout == destination.layout,
                  storageB !== target || b.layout == destination.layout else { return nil }
            if destination.layout.count > 0 {
                kernel(backend, viewA, viewB, StridedView(buffer: target.buffer, dtype: dtype, layout: destination.layout))
            }
            target.bumpVersion()
            return destination
        }
        // A full device goes to the general path, which reports it on the result.
        guard let output = try? empty(shape, dtype: dtype, on: backend) else { return nil }
        if output.layout.count > 0 { kernel(backend, viewA, viewB, output.view) }
        return output
    }
}
