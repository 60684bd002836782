/// How strided views reach the kernels: the `Shape` and `View` structs of `Kernels/common.cl`.
enum CLViewArgs {
    /// `MAX_RANK` in `Kernels/common.cl`: the most axes a strided kernel decodes, as many as a
    /// tensor has.
    static let maxRank = Dims.capacity

    /// `Shape { int rank; int dims[MAX_RANK]; }` (unused axes are 1).
    static func shape(_ layout: Layout) -> CLArg {
        check(layout.rank <= maxRank, "OpenCL kernels take at most \(maxRank) axes, got \(layout.shape)")
        return .ints([Int32(layout.rank)] + padded(layout.shape, with: 1))
    }

    /// `View { int offset; int strides[MAX_RANK]; }` (unused axes have stride 0).
    static func view(_ layout: Layout) -> CLArg {
        check(layout.rank <= maxRank, "OpenCL kernels take at most \(maxRank) axes, got \(layout.shape)")
        return .ints([Int32(layout.offset)] + padded(layout.strides, with: 0))
    }

    private static func padded(_ values: Dims, with filler: Int) -> [Int32] {
        (Array(values) + [Int](repeating: filler, count: maxRank - values.count)).map { Int32($0) }
    }
}
