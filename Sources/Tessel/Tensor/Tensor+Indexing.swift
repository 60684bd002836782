extension Tensor {
    /// `output[i][j]... = self[...][index[i][j]...][...]` along `axis`, as `torch.gather`:
    /// `index` is int32 with the output's shape, which matches `self` except along `axis`.
    public func gather(axis: Int, index: Tensor) -> Tensor {
        check(rank > 0, "gather: a 0-d tensor has no axis to gather along")
        let a = self.axis(axis, op: "gather")
        check(index.dtype != .float32, "gather: index must be int32, got \(index.dtype)")
        check(index.rank == rank && (0..<rank).allSatisfy { $0 == a || index.shape[$0] == shape[$0] },
                     "gather: index shape \(index.shape) does not match \(shape) outside axis \(axis)")
        return Dispatch.run(.gather(axis: a), [self, index])
    }

    /// The entries at `indices` (1-D int32) along `axis`, as `torch.index_select`.
    public func indexSelect(axis: Int, indices: Tensor) -> Tensor {
        check(rank > 0, "indexSelect: a 0-d tensor has no axis to select along")
        let a = self.axis(axis, op: "indexSelect")
        check(indices.rank == 1 && indices.dtype != .float32,
                     "indexSelect: indices must be a 1-D int32 tensor, got \(indices.shape) \(indices.dtype)")
        return Dispatch.run(.gather(axis: a), [self, spread(indices, along: a)])
    }

    /// A copy of `self` with each element of `source` added at its `index` along `axis`, as
    /// `torch.scatter_add`: for a 2-D tensor and axis 0, `out[index[i][j]][j] += source[i][j]`.
    /// Repeated indices accumulate; `index` (int32) may be smaller than `source` along any axis,
    /// and than `self` along every axis but `axis`. The backward of `gather`.
    public func scatterAdd(axis: Int, index: Tensor, source: Tensor) -> Tensor {
        check(rank > 0, "scatterAdd: a 0-d tensor has no axis to scatter along")
        let a = self.axis(axis, op: "scatterAdd")
        check(index.dtype != .float32, "scatterAdd: index must be int32, got \(index.dtype)")
        check(index.rank == rank && source.rank == rank
              && (0..<rank).allSatisfy { index.shape[$0] <= source.shape[$0] && ($0 == a || index.shape[$0] <= shape[$0]) },
              "scatterAdd: index \(index.shape) and source \(source.shape) do not fit \(shape) along axis \(axis)")
        check(dtype != .bool, "scatterAdd: cannot add into a bool tensor")
        return Dispatch.run(.scatterAdd(axis: a), [self, index.cast(.int32), source])
    }

    /// A copy of `self` with the slices of `source` added at `indices` (1-D int32) along
    /// `axis`, as `torch.index_add`: the backward of `indexSelect`.
    public func indexAdd(axis: Int, indices: Tensor, source: Tensor) -> Tensor {
        check(rank > 0, "indexAdd: a 0-d tensor has no axis to add along")
        let a = self.axis(axis, op: "indexAdd")
        check(indices.rank == 1 && indices.dtype != .float32,
              "indexAdd: indices must be a 1-D int32 tensor, got \(indices.shape) \(indices.dtype)")
        let index = spread(indices, along: a)
        check(source.shape == index.shape, "indexAdd: source \(source.shape) should be \(index.shape) for \(indices.count) indices into \(shape)")
        return scatterAdd(axis: a, index: index, source: source)
    }

    /// 1-D `indices` as an index of this shape with `axis` replaced by them, repeated (stride 0)
    /// over every other axis: what `indexSelect` gathers and `indexAdd` scatters with, no copy.
    private func spread(_ indices: Tensor, along axis: Int) -> Tensor {
        var target = shape, unit = [Int](repeating: 1, count: rank)
        target[axis] = indices.count
        unit[axis] = indices.count
        return indices.reshape(unit).expand(target)
    }

    /// One-hot rows for int32 class labels: shape `shape + [classes]`, float32.
    public func oneHot(classes: Int) -> Tensor {
        check(dtype != .float32, "oneHot: labels must be int32, got \(dtype)")
        let positions = Tensor.arange(0, classes, device: device)
        return (unsqueeze(axis: -1) .== positions).cast(.float32)
    }
}
