extension Tensor {
    /// The same elements with a new shape; one axis may be -1 (inferred). Copies only when the
    /// strides make a view impossible (as PyTorch's `reshape`).
    public func reshape(_ newShape: [Int]) -> Tensor {
        Dispatch.run(.reshape(resolveShape(newShape, op: "reshape")), [self])
    }

    /// Variadic form of `reshape(_:)`.
    public func reshape(_ newShape: Int...) -> Tensor { reshape(newShape) }

    private func resolveShape(_ newShape: [Int], op: String) -> [Int] {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        check(inferred.count <= 1, "\(op): only one axis may be -1 in \(newShape)")
        var resolved = newShape
        if let axis = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            check(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) to \(newShape)")
            resolved[axis] = count / known
        }
        check(resolved.allSatisfy { $0 >= 0 } && Layout.elementCount(resolved, op: op) == count,
                     "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return resolved
    }

    /// Axes `startAxis...endAxis` merged into one (all axes by default).
    public func flatten(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        guard rank > 0 else { return reshape([1]) }
        let start = axis(startAxis, op: "flatten"), end = axis(endAxis, op: "flatten")
        check(start <= end, "flatten: startAxis \(startAxis) after endAxis \(endAxis) for shape \(shape)")
        let merged = shape[start...end].reduce(1, *)
        return reshape(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    /// Removes size-1 axes: the given one, or all of them.
    public func squeeze(axis: Int? = nil) -> Tensor {
        guard rank > 0 else { return self } // a 0-d tensor has nothing to squeeze (as PyTorch)
        if let axis {
            let a = self.axis(axis, op: "squeeze")
            guard shape[a] == 1 else { return self }
            var kept = shape
            kept.remove(at: a)
            return reshape(kept)
        }
        return reshape(shape.filter { $0 != 1 })
    }

    /// Inserts a size-1 axis at `axis` (negative counts from the end of the result).
    public func unsqueeze(axis: Int) -> Tensor {
        let a = self.axis(axis, op: "unsqueeze", rank: rank + 1)
        var expanded = shape
        expanded.insert(1, at: a)
        return reshape(expanded)
    }

    /// Reorders the axes: `permute([1, 0])` transposes a matrix.
    public func permute(_ order: [Int]) -> Tensor {
        let normalised = order.map { axis($0, op: "permute") }
        check(normalised.count == rank && Set(normalised).count == rank,
                     "permute: \(order) is not a permutation of the axes of shape \(shape)")
        return Dispatch.run(.permute(normalised), [self])
    }

    /// Variadic form of `permute(_:)`.
    public func permute(_ order: Int...) -> Tensor { permute(order) }

    /// Swaps two axes.
    public func transpose(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(first, op: "transpose"), axis(second, op: "transpose"))
        return permute(order)
    }

    /// All axes reversed (a matrix's transpose), as PyTorch's `.T`.
    public var T: Tensor { permute(Array((0..<rank).reversed())) }

    /// A broadcast view with `newShape` (-1 keeps an axis); new and size-1 axes repeat with stride 0.
    public func expand(_ newShape: [Int]) -> Tensor {
        let lead = newShape.count - rank
        check(lead >= 0, "expand: cannot expand shape \(shape) to \(newShape)")
        let target = newShape.enumerated().map { i, size in size == -1 && i >= lead ? shape[i - lead] : size }
        check(Layout.canBroadcast(shape, to: target), "expand: cannot expand shape \(shape) to \(newShape)")
        return Dispatch.run(.expand(target), [self])
    }

    /// A view with any `shape`, `strides` and `offset` (in elements, from the start of the
    /// storage, as PyTorch's `as_strided`): windows that overlap (`unfold`, im2col) are views,
    /// not copies. Every element must lie inside the storage.
    public func asStrided(shape: [Int], strides: [Int], offset: Int = 0) -> Tensor {
        check(shape.count == strides.count, "asStrided: shape \(shape) and strides \(strides) differ in rank")
        _ = Layout.elementCount(shape, op: "asStrided")
        return Dispatch.run(.asStrided(shape: shape, strides: strides, offset: offset), [self])
    }

    /// The elements in reverse order along `axes` (a view with negative strides, as NumPy's
    /// `flip`; PyTorch copies).
    public func flip(_ axes: [Int]) -> Tensor {
        let flipped = Set(axes.map { axis($0, op: "flip") })
        return slice((0..<rank).map { flipped.contains($0) ? .range(start: nil, end: nil, step: -1) : .range(start: nil, end: nil, step: 1) })
    }

    /// Variadic form of `flip(_:)`.
    public func flip(_ axes: Int...) -> Tensor { flip(axes) }

    /// A densely packed copy that shares nothing with `self`, as PyTorch's `clone()`.
    public func clone() -> Tensor { Dispatch.run(.contiguous, [self]) }

    /// A densely packed copy, or `self` when it already is.
    public func contiguous() -> Tensor { isContiguous ? self : Dispatch.run(.contiguous, [self]) }

    /// A copy on `device` (or `self` when it is there already).
    public func to(_ device: Device) -> Tensor { device == self.device ? self : Dispatch.run(.transfer(device), [self]) }

    /// The elements converted to `dtype`.
    public func cast(_ dtype: DType) -> Tensor { dtype == self.dtype ? self : Dispatch.run(.cast(dtype), [self]) }

    /// Joins tensors along an existing axis.
    public static func cat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "cat: needs at least one tensor")
        let first = tensors[0]
        check(first.rank > 0, "cat: zero-dimensional tensors cannot be joined; use stack")
        let a = first.axis(axis, op: "cat")
        for t in tensors {
            check(t.rank == first.rank && t.dtype == first.dtype && t.device == first.device
                         && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "cat: shapes \(first.shape) and \(t.shape) (\(first.dtype), \(t.dtype)) do not join along axis \(axis)")
        }
        return Dispatch.run(.cat(axis: a), tensors)
    }

    /// Joins tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "stack: needs at least one tensor")
        for t in tensors { check(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ") }
        return cat(tensors.map { $0.unsqueeze(axis: axis) }, axis: axis)
    }
}
