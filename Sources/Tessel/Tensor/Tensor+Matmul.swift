extension Tensor {
    /// Matrix product with NumPy's rules: matrix x matrix, matrix x vector, vector x matrix, and
    /// batched products whose leading axes broadcast. Transposed and expanded operands are read
    /// through their strides, not copied. Both operands become float32.
    public func matmul(_ other: Tensor) -> Tensor {
        Dispatch.run(.matmul, [cast(.float32), other.cast(.float32)])
    }
}
