extension Tensor {
    /// The same elements with a new shape; one axis may be -1 (inferred). Copies only when the
    /// strides make a view impossible (as PyTorch's `reshape`).
    public func reshape(_ newShape: [Int]) -> Tensor {
        let resolved = resolveShape(newShape, op: "reshape")
        if let view = layout.reshapedView(resolved) { return viewing(view) }
        return contiguous().viewing(Layout(contiguous: resolved))
    }

    /// Variadic form of `reshape(_:)`.
    public func reshape(_ newShape: Int...) -> Tensor { reshape(newShape) }

    private func resolveShape(_ newShape: [Int], op: String) -> [Int] {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        precondition(inferred.count <= 1, "\(op): only one axis may be -1 in \(newShape)")
        var resolved = newShape
        if let axis = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            precondition(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) to \(newShape)")
            resolved[axis] = count / known
        }
        precondition(resolved.allSatisfy { $0 >= 0 } && resolved.reduce(1, *) == count,
                     "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return resolved
    }

    /// Axes `startAxis...endAxis` merged into one (all axes by default).
    public func flatten(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        guard rank > 0 else { return reshape([1]) }
        let start = axis(startAxis, op: "flatten"), end = axis(endAxis, op: "flatten")
        precondition(start <= end, "flatten: startAxis \(startAxis) after endAxis \(endAxis) for shape \(shape)")
        let merged = shape[start...end].reduce(1, *)
        return reshape(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    /// Removes size-1 axes: the given one, or all of them.
    public func squeeze(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = self.axis(axis, op: "squeeze")
            guard shape[a] == 1 else { return self }
            var view = layout
            view.shape.remove(at: a)
            view.strides.remove(at: a)
            return viewing(view)
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return viewing(Layout(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset))
    }

    /// Inserts a size-1 axis at `axis` (negative counts from the end of the result).
    public func unsqueeze(axis: Int) -> Tensor {
        let a = self.axis(axis, op: "unsqueeze", rank: rank + 1)
        var view = layout
        view.shape.insert(1, at: a)
        view.strides.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        return viewing(view)
    }

    /// Reorders the axes: `permute([1, 0])` transposes a matrix.
    public func permute(_ order: [Int]) -> Tensor {
        let normalised = order.map { axis($0, op: "permute") }
        precondition(normalised.count == rank && Set(normalised).count == rank,
                     "permute: \(order) is not a permutation of the axes of shape \(shape)")
        return viewing(layout.permuted(normalised))
    }

    /// Variadic form of `permute(_:)`.
    public func permute(_ order: Int...) -> Tensor { permute(order) }

    /// Swaps two axes.
    public func transpose(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(first, op: "transpose"), axis(second, op: "transpose"))
        return viewing(layout.permuted(order))
    }

    /// All axes reversed (a matrix's transpose), as PyTorch's `.T`.
    public var T: Tensor { viewing(layout.permuted(Array((0..<rank).reversed()))) }

    /// A broadcast view with `newShape` (-1 keeps an axis); new and size-1 axes repeat with stride 0.
    public func expand(_ newShape: [Int]) -> Tensor {
        let lead = newShape.count - rank
        precondition(lead >= 0, "expand: cannot expand shape \(shape) to \(newShape)")
        let target = newShape.enumerated().map { i, size in size == -1 && i >= lead ? shape[i - lead] : size }
        return viewing(layout.broadcast(to: target, op: "expand"))
    }

    /// A densely packed copy that shares nothing with `self`, as PyTorch's `clone()`.
    public func clone() -> Tensor { Dispatch.copy(self) }

    /// A densely packed copy, or `self` when it already is.
    public func contiguous() -> Tensor { isContiguous ? self : Dispatch.copy(self) }

    /// A copy on `device` (or `self` when it is there already).
    public func to(_ device: Device) -> Tensor { device == self.device ? self : Dispatch.transfer(self, to: device) }

    /// The elements converted to `dtype`.
    public func cast(_ dtype: DType) -> Tensor { dtype == self.dtype ? self : Dispatch.cast(self, to: dtype) }

    /// Joins tensors along an existing axis.
    public static func cat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "cat: needs at least one tensor")
        let first = tensors[0]
        let a = first.axis(axis, op: "cat")
        for t in tensors {
            precondition(t.rank == first.rank && t.dtype == first.dtype && t.device == first.device
                         && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "cat: shapes \(first.shape) and \(t.shape) (\(first.dtype), \(t.dtype)) do not join along axis \(axis)")
        }
        var shape = first.shape
        shape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let output = Dispatch.empty(shape, dtype: first.dtype, on: first.storage.backend)
        var start = 0
        for t in tensors {
            var region = output.layout
            region.shape[a] = t.shape[a]
            region.offset = start * output.strides[a]
            Dispatch.copy(t, into: output, region: region)
            start += t.shape[a]
        }
        return output
    }

    /// Joins tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: needs at least one tensor")
        for t in tensors { precondition(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ") }
        return cat(tensors.map { $0.unsqueeze(axis: axis) }, axis: axis)
    }
}
