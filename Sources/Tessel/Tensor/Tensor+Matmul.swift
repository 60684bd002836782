extension Tensor {
    /// Matrix product with NumPy's rules: matrix x matrix, matrix x vector, vector x matrix, and
    /// batched products whose leading axes broadcast. Transposed and expanded operands are read
    /// through their strides, not copied. Both operands become float32.
    public func matmul(_ other: Tensor) -> Tensor {
        Dispatch.run(.matmul, [cast(.float32), other.cast(.float32)])
    }

    /// `bias + a.matmul(b)` with the bias (broadcast to the product's shape, as a [n] row for
    /// a linear layer) added in the GEMM's epilogue: one kernel, no second pass over the
    /// product. As `torch.addmm`, for any operands `matmul` takes.
    public static func addmm(_ bias: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        Dispatch.run(.addmm, [bias.cast(.float32), a.cast(.float32), b.cast(.float32)])
    }
}
