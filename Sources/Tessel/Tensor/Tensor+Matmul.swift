extension Tensor {
    /// Matrix product with NumPy's rules: matrix x matrix, matrix x vector, vector x matrix, and
    /// batched products whose leading axes broadcast. Transposed and expanded operands are read
    /// through their strides, not copied. Both operands become float32.
    public func matmul(_ other: Tensor) -> Tensor {
        Dispatch.sameDevice("matmul", self, other)
        precondition(rank >= 1 && other.rank >= 1, "matmul: operands need at least one axis, got \(shape) and \(other.shape)")
        let a = rank == 1 ? unsqueeze(axis: 0) : self
        let b = other.rank == 1 ? other.unsqueeze(axis: 1) : other
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        precondition(b.shape[b.rank - 2] == k, "matmul: shapes \(shape) and \(other.shape) do not chain (\(k) vs \(b.shape[b.rank - 2]))")
        let batchShape = Layout.broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
        let batch = batchShape.reduce(1, *)
        let left = a.cast(.float32).batched(batchShape + [m, k], batch: batch)
        let right = b.cast(.float32).batched(batchShape + [k, n], batch: batch)
        // A vector operand's added axis is dropped again (vector x vector gives a 0-d tensor).
        return Dispatch.matmul(left, right).reshape(batchShape + (rank == 1 ? [] : [m]) + (other.rank == 1 ? [] : [n]))
    }

    /// The view [batch, rows, columns] of `self` broadcast to `shape`; copies only when the
    /// broadcast batch axes cannot share one stride.
    private func batched(_ shape: [Int], batch: Int) -> Tensor {
        let expanded = viewing(layout.broadcast(to: shape, op: "matmul"))
        let target = [batch, shape[shape.count - 2], shape[shape.count - 1]]
        if let view = expanded.layout.reshapedView(target) { return viewing(view) }
        return expanded.contiguous().reshape(target)
    }
}
