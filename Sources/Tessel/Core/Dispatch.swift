/// The one place every tensor operation reaches a backend.
///
/// Tensor methods validate and shape their arguments, then call here; this layer picks the
/// backend, allocates the output and launches the kernel. It is where the autograd tape records
/// operations and where lazy evaluation or kernel fusion can later slot in without touching the ops.
enum Dispatch {
    /// Fresh uninitialised contiguous tensor.
    static func empty(_ shape: [Int], dtype: DType, on backend: any Backend) -> Tensor {
        let layout = Layout(contiguous: shape)
        return Tensor(storage: TensorStorage(count: layout.count, dtype: dtype, backend: backend), layout: layout)
    }

    /// A tensor with every element set to the 4-byte pattern `bits`.
    static func filled(_ shape: [Int], dtype: DType, bits: UInt32, device: Device) -> Tensor {
        let backend = device.resolvedBackend
        let output = empty(shape, dtype: dtype, on: backend)
        if output.count > 0 { backend.fill(output.storage.buffer, count: output.count, bits: bits) }
        return output
    }

    /// A tensor holding `bytes` (4 bytes per element, already in the dtype's format), uploaded from the host.
    static func upload(_ bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType, device: Device) -> Tensor {
        let backend = device.resolvedBackend
        let output = empty(shape, dtype: dtype, on: backend)
        precondition(bytes.count == output.count * 4, "upload: \(bytes.count) bytes for shape \(shape)")
        backend.write(bytes, to: output.storage.buffer)
        return output
    }

    static func upload(_ bits: [UInt32], shape: [Int], dtype: DType, device: Device) -> Tensor {
        bits.withUnsafeBytes { upload($0, shape: shape, dtype: dtype, device: device) }
    }

    /// Copies the elements of `x` in row-major order into `bytes` (waits for the device).
    static func download(_ x: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count == x.count * 4, "download: \(bytes.count) bytes for shape \(x.shape)")
        let source = x.isContiguous && x.offset == 0 ? x : copy(x)
        source.storage.backend.read(source.storage.buffer, into: bytes)
    }

    /// The elements of `x` in row-major order as raw 4-byte patterns.
    static func download(_ x: Tensor) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: x.count) { buffer, initialized in
            download(x, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = x.count
        }
    }

    /// A contiguous copy of `x` on the same device.
    static func copy(_ x: Tensor) -> Tensor {
        let output = empty(x.shape, dtype: x.dtype, on: x.storage.backend)
        if x.count > 0 { x.storage.backend.copy(x.view, to: output.view) }
        return output
    }

    /// Copies `source` into the region `destination` of `target`'s buffer (used by `cat`).
    static func copy(_ source: Tensor, into target: Tensor, region destination: Layout) {
        guard source.count > 0 else { return }
        source.storage.backend.copy(source.view, to: StridedView(buffer: target.storage.buffer, dtype: target.dtype,
                                                                 layout: destination))
    }

    /// `x` moved to `device` through host memory.
    static func transfer(_ x: Tensor, to device: Device) -> Tensor {
        upload(download(x), shape: x.shape, dtype: x.dtype, device: device)
    }

    static func cast(_ x: Tensor, to dtype: DType) -> Tensor {
        let output = empty(x.shape, dtype: dtype, on: x.storage.backend)
        if x.count > 0 { x.storage.backend.cast(x.view, to: dtype, into: output.storage.buffer) }
        return output
    }

    static func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let output = empty(x.shape, dtype: x.dtype, on: x.storage.backend)
        if x.count > 0 { x.storage.backend.unary(op, x.view, into: output.storage.buffer) }
        return output
    }

    /// Broadcasts, promotes both operands to a common dtype, then runs the kernel.
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        sameDevice(op.rawValue, a, b)
        let shape = Layout.broadcastShape(a.shape, b.shape, op: op.rawValue)
        let dtype = a.dtype.promoted(with: b.dtype)
        let left = a.dtype == dtype ? a : cast(a, to: dtype)
        let right = b.dtype == dtype ? b : cast(b, to: dtype)
        let output = empty(shape, dtype: op.isComparison ? .bool : dtype, on: a.storage.backend)
        if output.count > 0 {
            a.storage.backend.binary(op, left.view.with(left.layout.broadcast(to: shape, op: op.rawValue)),
                                     right.view.with(right.layout.broadcast(to: shape, op: op.rawValue)),
                                     into: output.storage.buffer)
        }
        return output
    }

    static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        sameDevice("where", condition, a)
        sameDevice("where", a, b)
        let shape = Layout.broadcastShape(Layout.broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let dtype = a.dtype.promoted(with: b.dtype) == .float32 ? DType.float32 : (a.dtype == b.dtype ? a.dtype : .int32)
        let left = a.dtype == dtype ? a : cast(a, to: dtype)
        let right = b.dtype == dtype ? b : cast(b, to: dtype)
        let output = empty(shape, dtype: dtype, on: a.storage.backend)
        if output.count > 0 {
            a.storage.backend.select(condition.view.with(condition.layout.broadcast(to: shape, op: "where")),
                                     left.view.with(left.layout.broadcast(to: shape, op: "where")),
                                     right.view.with(right.layout.broadcast(to: shape, op: "where")),
                                     into: output.storage.buffer)
        }
        return output
    }

    /// Reduces `axes` (already normalised, sorted, unique) of `x`; the result drops those axes.
    static func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) -> Tensor {
        let kept = (0..<x.rank).filter { !axes.contains($0) }
        let outputShape = kept.map { x.shape[$0] }
        // A sum of a mask counts: bool (stored as int32 0/1) sums as int32, as in NumPy.
        let inputType = op == .sum && x.dtype == .bool ? DType.int32 : x.dtype
        let output = empty(outputShape, dtype: op.isArg ? .int32 : inputType, on: x.storage.backend)
        if output.count > 0 {
            precondition(axes.allSatisfy { x.shape[$0] > 0 } || op == .sum,
                         "\(op.rawValue): cannot reduce over an empty axis of shape \(x.shape)")
            let input = StridedView(buffer: x.storage.buffer, dtype: inputType, layout: x.layout.permuted(kept + axes))
            x.storage.backend.reduce(op, input, reducedRank: axes.count, into: output.storage.buffer)
        }
        return output
    }

    /// Softmax or log-softmax along `axis` of float32 `x`: the axis is moved last (a view), the
    /// backend normalises each row, and the result is permuted back (a view of a contiguous
    /// buffer, as the composed ops would give for the last axis).
    static func softmax(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        guard x.rank > 0 else { return softmax(x.reshape([1]), axis: 0, log: log).reshape([]) }
        let order = (0..<x.rank).filter { $0 != axis } + [axis]
        let input = x.view.with(x.layout.permuted(order))
        let output = empty(input.shape, dtype: .float32, on: x.storage.backend)
        if output.count > 0 { x.storage.backend.softmax(input, log: log, into: output.storage.buffer) }
        var inverse = [Int](repeating: 0, count: x.rank)
        for (position, source) in order.enumerated() { inverse[source] = position }
        return axis == x.rank - 1 ? output : output.permute(inverse)
    }

    /// `a` [batch, m, k] times `b` [batch, k, n], both float32, any strides.
    static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let output = empty([a.shape[0], a.shape[1], b.shape[2]], dtype: .float32, on: a.storage.backend)
        if output.count > 0 { a.storage.backend.matmul(a.view, b.view, into: output.storage.buffer) }
        return output
    }

    static func gather(_ x: Tensor, axis: Int, index: Tensor) -> Tensor {
        sameDevice("gather", x, index)
        let output = empty(index.shape, dtype: x.dtype, on: x.storage.backend)
        if output.count > 0 { x.storage.backend.gather(x.view, axis: axis, index: index.view, into: output.storage.buffer) }
        return output
    }

    static func sameDevice(_ op: String, _ a: Tensor, _ b: Tensor) {
        precondition(a.device == b.device, "\(op): operands are on \(a.device) and \(b.device); move one with to(_:)")
    }
}
