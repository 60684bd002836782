extension Tensor {
    /// Running sums along `axis` (int32 stays int32, bool counts as int32), as `torch.cumsum`.
    public func cumsum(axis: Int) -> Tensor { scanned(.sum, axis: axis) }

    /// Running products along `axis`, as `torch.cumprod`.
    public func cumprod(axis: Int) -> Tensor { scanned(.prod, axis: axis) }

    private func scanned(_ op: ScanOp, axis: Int) -> Tensor {
        let a = rank == 0 ? 0 : self.axis(axis, op: op == .sum ? "cumsum" : "cumprod")
        return Dispatch.run(.scan(op, axis: a), [dtype == .bool ? cast(.int32) : self])
    }

    /// The product of the elements over `axes` (all when nil): the last of the running
    /// products along each axis.
    public func prod(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let reduced = reductionAxes(axes, op: "prod")
        var result = dtype == .bool ? cast(.int32) : self
        for axis in reduced {
            let length = result.shape[axis]
            guard length > 0 else {
                // The empty product is 1.
                var shape = result.shape
                shape[axis] = 1
                result = Tensor.ones(shape, dtype: result.dtype, device: device)
                continue
            }
            result = result.cumprod(axis: axis).slice(Array(repeating: .range(start: nil, end: nil, step: 1), count: axis)
                                                      + [.range(start: length - 1, end: length, step: 1)])
        }
        return keepDims ? result : result.reshape(shape.indices.filter { !reduced.contains($0) }.map { shape[$0] })
    }
    public func prod(axis: Int, keepDims: Bool = false) -> Tensor { prod(axes: [axis], keepDims: keepDims) }
}
