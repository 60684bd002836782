extension Tensor {
    /// The positions that sort `axis` (int32): stable, so equal values keep their order; NaN
    /// counts as the largest value (last ascending, first descending), as PyTorch's `argsort`
    /// with `stable=True`.
    public func argsort(axis: Int = -1, descending: Bool = false) -> Tensor {
        let a = rank == 0 ? 0 : self.axis(axis, op: "argsort")
        return Dispatch.run(.argsort(axis: a, descending: descending), [dtype == .bool ? cast(.int32) : self])
    }

    /// The values sorted along `axis` and the positions they came from, as `torch.sort`.
    public func sort(axis: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        let order = argsort(axis: axis, descending: descending)
        return (rank == 0 ? self : gather(axis: axis, index: order), order)
    }

    /// The `k` largest (or smallest) values along `axis`, in order, with their positions, as
    /// `torch.topk` (ties: the earlier position first).
    public func topk(_ k: Int, axis: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        let a = rank == 0 ? 0 : self.axis(axis, op: "topk")
        check(k >= 0 && k <= (rank == 0 ? 1 : shape[a]), "topk: k = \(k) is out of range for axis \(axis) of shape \(shape)")
        let order = argsort(axis: a, descending: largest)
        guard rank > 0 else { return (self, order) }
        let indices = order.slice(Array(repeating: .range(start: nil, end: nil, step: 1), count: a) + [.range(start: 0, end: k, step: 1)])
        return (gather(axis: a, index: indices), indices)
    }
}
