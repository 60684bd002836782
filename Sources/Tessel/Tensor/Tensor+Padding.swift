extension Tensor {
    /// `self` grown by `widths[axis].before` elements before and `.after` after each axis (one
    /// pair per axis, as NumPy's `pad`), filled with a constant or from `self` (reflect,
    /// replicate; as PyTorch's `F.pad` modes).
    public func pad(_ widths: [(before: Int, after: Int)], mode: PadMode = .constant(0)) -> Tensor {
        check(widths.count == rank && widths.allSatisfy { $0.before >= 0 && $0.after >= 0 },
              "pad: needs one non-negative (before, after) pair per axis of shape \(shape), got \(widths)")
        let readsEdges: Bool
        if case .constant = mode { readsEdges = false } else { readsEdges = true }
        for (axis, width) in widths.enumerated() where readsEdges && (width.before > 0 || width.after > 0) {
            check(shape[axis] > 0, "pad: cannot \(mode) an empty axis \(axis) of shape \(shape)")
            check(mode != .reflect || (width.before < shape[axis] && width.after < shape[axis]),
                  "pad: reflect widths \(width) must be smaller than axis \(axis) of shape \(shape)")
        }
        return Dispatch.run(.pad(widths: widths.flatMap { [$0.before, $0.after] }, mode: mode), [self])
    }
}
