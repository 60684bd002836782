extension Tensor {
    /// Normalised, sorted, unique axes (all of them when `axes` is nil).
    func reductionAxes(_ axes: [Int]?, op: String) -> [Int] {
        // A 0-d tensor has nothing to reduce; axis 0 or -1 names it, as in PyTorch.
        guard let axes, rank > 0 else { return Tensor.everyAxis[rank] }
        var resolved = axes.map { axis($0, op: op) }
        resolved.sort()
        var unique = 0
        for axis in resolved where unique == 0 || resolved[unique - 1] != axis {
            resolved[unique] = axis
            unique += 1
        }
        resolved.removeLast(resolved.count - unique)
        return resolved
    }

    /// `0..<rank` for each rank, made once: a full reduction (`x.sum()`) then allocates no
    /// axis list.
    private static let everyAxis: [[Int]] = (0...Dims.capacity).map { Array(0..<$0) }

    /// Reduces, then puts back size-1 axes when `keepDims` is set.
    private func reduced(_ op: ReduceOp, axes: [Int]?, keepDims: Bool) -> Tensor {
        let resolved = reductionAxes(axes, op: op.rawValue)
        let result = Dispatch.run(.reduce(op, axes: resolved), self)
        return keepDims ? result.reshape(shape.indices.map { resolved.contains($0) ? 1 : shape[$0] }) : result
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduced(.sum, axes: axes, keepDims: keepDims) }
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all when nil), float32.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let n = reductionAxes(axes, op: "mean").map { shape[$0] }.reduce(1, *)
        return cast(.float32).sum(axes: axes, keepDims: keepDims) / Float(n)
    }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes` (all when nil), float32: the squared deviations from the mean summed
    /// and divided by `n - correction` (1 by default, Bessel's correction, as `torch.var`).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let x = cast(.float32)
        let n = reductionAxes(axes, op: "var").map { shape[$0] }.reduce(1, *)
        let deviations = x - x.mean(axes: axes, keepDims: true)
        return deviations.square().sum(axes: axes, keepDims: keepDims) / Float(Swift.max(n - correction, 0))
    }
    public func variance(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: [axis], correction: correction, keepDims: keepDims)
    }

    /// Standard deviation over `axes`: the square root of `variance`.
    public func std(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: axes, correction: correction, keepDims: keepDims).sqrt()
    }
    public func std(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        std(axes: [axis], correction: correction, keepDims: keepDims)
    }

    /// Largest element over `axes` (NaN wins).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduced(.max, axes: axes, keepDims: keepDims) }
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// Smallest element over `axes` (NaN wins).
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduced(.min, axes: axes, keepDims: keepDims) }
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { min(axes: [axis], keepDims: keepDims) }

    /// Index of the largest element along `axis`, or into the flattened tensor when nil (int32;
    /// the first on ties).
    public func argmax(axis: Int? = nil, keepDims: Bool = false) -> Tensor { argReduce(.argmax, axis: axis, keepDims: keepDims) }
    /// Index of the smallest element along `axis`, or into the flattened tensor when nil.
    public func argmin(axis: Int? = nil, keepDims: Bool = false) -> Tensor { argReduce(.argmin, axis: axis, keepDims: keepDims) }

    private func argReduce(_ op: ReduceOp, axis: Int?, keepDims: Bool) -> Tensor {
        guard let axis else {
            let flat = Dispatch.run(.reduce(op, axes: Array(0..<rank)), [self])
            return keepDims ? flat.reshape([Int](repeating: 1, count: rank)) : flat
        }
        return reduced(op, axes: [axis], keepDims: keepDims)
    }

    /// `log(sum(exp(x)))` over `axes`, computed as `m + log(sum(exp(x - m)))` with `m` the max,
    /// so large inputs do not overflow.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let x = cast(.float32)
        let peak = x.max(axes: axes, keepDims: true)
        // An all -inf slice would give (-inf) - (-inf) = NaN; shifting by 0 there keeps -inf.
        let shift = Tensor.where(peak.abs() .== Float.infinity, Tensor.zeros([], device: device), peak)
        let result = (x - shift).exp().sum(axes: axes, keepDims: true).log() + shift
        return keepDims ? result : result.reshape(x.shape.indices.filter { !x.reductionAxes(axes, op: "logSumExp").contains($0) }.map { x.shape[$0] })
    }
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }

    /// `exp(x) / sum(exp(x))` along `axis`, shifted by the max for stability (one fused kernel).
    public func softmax(axis: Int = -1) -> Tensor {
        Dispatch.run(.softmax(axis: rank == 0 ? 0 : self.axis(axis, op: "softmax"), log: false), [cast(.float32)])
    }

    /// `x - logSumExp(x)` along `axis` (one fused kernel).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        Dispatch.run(.softmax(axis: rank == 0 ? 0 : self.axis(axis, op: "logSoftmax"), log: true), [cast(.float32)])
    }
}
