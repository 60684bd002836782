extension Tensor {
    /// Each image of a batch resampled through its own affine map, then scaled and shifted: the
    /// batch augmentation kernel (one kernel per batch on every backend).
    ///
    /// `self` is float32 [N, C, H, W]; `parameters` is float32 [N, 8]. For output pixel (x, y)
    /// of image n with p = parameters[n], the input is read at (p0 x + p1 y + p2, p3 x + p4 y + p5)
    /// (pixel coordinates, x along W), bilinearly, with coordinates clamped to the image (border
    /// padding, so the background extends); the result is `value * p6 + p7` (contrast and
    /// brightness). The identity is `[1, 0, 0, 0, 1, 0, 1, 0]`. Not differentiable.
    public func warpAffine(_ parameters: Tensor) -> Tensor {
        check(rank == 4 && dtype == .float32, "warpAffine: images must be float32 [N, C, H, W], got \(dtype) \(shape)")
        check(parameters.dtype == .float32 && parameters.shape == [shape[0], 8],
              "warpAffine: parameters must be float32 [\(shape[0]), 8] for images \(shape), got \(parameters.dtype) \(parameters.shape)")
        check(parameters.device == device, "warpAffine: images on \(device), parameters on \(parameters.device)")
        return Dispatch.run(.warpAffine, [self, parameters])
    }
}
