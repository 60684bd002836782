extension Tensor {
    /// `value` where `mask` (bool, broadcasting) is true, else `self`, as `torch.masked_fill`.
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor {
        let filler = Tensor.filled([], dtype: dtype, bits: Tensor.storedBits(value, dtype, op: "maskedFill"), device: device)
        return Tensor.where(mask, filler, self)
    }

    /// True where an element is NaN.
    public func isnan() -> Tensor { dtype == .float32 ? self .!= self : Tensor.zeros(shape, dtype: .bool, device: device) }
    /// True where an element is +inf or -inf.
    public func isinf() -> Tensor {
        dtype == .float32 ? abs() .== Float.infinity : Tensor.zeros(shape, dtype: .bool, device: device)
    }
    /// True where an element is neither NaN nor infinite.
    public func isfinite() -> Tensor { dtype == .float32 ? (self - self) .== Float(0) : Tensor.ones(shape, dtype: .bool, device: device) }

    /// True where any element over `axes` (all when nil) is non-zero.
    public func any(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        // A count, not a max: an empty axis has none (false), where max would stop.
        (self .!= scalar(Int32(0))).sum(axes: axes, keepDims: keepDims) .> scalar(Int32(0))
    }
    /// True where every element over `axes` (all when nil) is non-zero (true for none).
    public func all(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        guard count > 0 else {
            let kept = reductionAxes(axes, op: "all")
            return Tensor.ones(shape.indices.compactMap { kept.contains($0) ? (keepDims ? 1 : nil) : shape[$0] },
                               dtype: .bool, device: device)
        }
        return (self .!= scalar(Int32(0))).cast(.int32).min(axes: axes, keepDims: keepDims) .!= scalar(Int32(0))
    }

    /// The coordinates of the non-zero elements, [count, rank] int32 in row-major order, as
    /// `torch.nonzero`. The count decides the shape, so this waits for the device.
    public func nonzero() -> Tensor {
        let flags = (self .!= scalar(Int32(0))).scalars(as: Int32.self)
        let strides = Layout.rowMajorStrides(layout.shape)
        var coordinates: [Int32] = []
        for (flat, flag) in flags.enumerated() where flag != 0 {
            var rest = flat
            for axis in 0..<rank {
                coordinates.append(Int32(rest / strides[axis]))
                rest %= strides[axis]
            }
        }
        let found = flags.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        return Tensor.fromHost(bits: coordinates.map { UInt32(bitPattern: $0) }, shape: [found, rank], dtype: .int32, device: device)
    }

    /// The elements where `mask` (bool, this shape) is true, as a 1-D tensor in row-major
    /// order: NumPy's and PyTorch's `x[mask]`. Waits for the device (the count sets the shape).
    public subscript(mask: Tensor) -> Tensor {
        check(mask.dtype == .bool && mask.shape == shape,
              "subscript: a mask must be a bool tensor of shape \(shape), got \(mask.dtype) \(mask.shape)")
        let flags = mask.scalars(as: Int32.self)
        let positions = flags.indices.filter { flags[$0] != 0 }.map { UInt32($0) }
        let index = Tensor.fromHost(bits: positions, shape: [positions.count], dtype: .int32, device: device)
        return reshape([count]).indexSelect(axis: 0, indices: index)
    }
}
