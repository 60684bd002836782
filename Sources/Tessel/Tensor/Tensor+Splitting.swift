extension Tensor {
    /// Views of consecutive pieces along `axis` with the given sizes (they must add up to the
    /// axis's size), as `torch.split` with a list.
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = self.axis(axis, op: "split")
        check(rank > 0 && sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
              "split: sizes \(sizes) do not add up to axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(Array(repeating: TensorIndex.range(start: nil, end: nil, step: 1), count: a)
                         + [.range(start: start, end: start + size, step: 1)])
        }
    }

    /// Views of `size` elements along `axis` (the last one shorter when the size does not
    /// divide the axis), as `torch.split` with an int.
    public func split(size: Int, axis: Int = 0) -> [Tensor] {
        check(size > 0, "split: size must be positive, got \(size)")
        let length = shape[self.axis(axis, op: "split")]
        return split(sizes: stride(from: 0, to: length, by: size).map { Swift.min(size, length - $0) }, axis: axis)
    }

    /// At most `chunks` views of equal size along `axis` (the last smaller), as `torch.chunk`.
    public func chunk(_ chunks: Int, axis: Int = 0) -> [Tensor] {
        check(chunks > 0, "chunk: needs a positive number of chunks, got \(chunks)")
        let length = shape[self.axis(axis, op: "chunk")]
        return split(size: Swift.max(1, (length + chunks - 1) / chunks), axis: axis)
    }

    /// The views at each position along `axis`, with that axis removed, as `torch.unbind`.
    public func unbind(axis: Int = 0) -> [Tensor] {
        let a = self.axis(axis, op: "unbind")
        check(rank > 0, "unbind: a 0-d tensor has no axis to unbind")
        return (0..<shape[a]).map { position in
            slice(Array(repeating: TensorIndex.range(start: nil, end: nil, step: 1), count: a) + [.at(position)])
        }
    }
}
