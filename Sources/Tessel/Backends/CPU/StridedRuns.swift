/// Walks a collapsed iteration space shared by several strided operands, in runs along its
/// last axis: the inner loops of every CPU kernel see a start offset per operand, a stride per
/// operand and a length, and can pick a SIMD path when the strides are 1 or 0.
struct StridedRuns {
    let shape: [Int]
    /// `strides[operand][axis]`.
    let strides: [[Int]]
    let offsets: [Int]

    /// Collapses the operands' layouts together (they must share a shape).
    init(_ layouts: [Layout]) {
        let collapsed = Layout.collapse(layouts)
        shape = collapsed[0].shape
        strides = collapsed.map(\.strides)
        offsets = collapsed.map(\.offset)
    }

    var innerLength: Int { shape[shape.count - 1] }
    func innerStride(_ operand: Int) -> Int { strides[operand][shape.count - 1] }

    /// Calls `body(offsets, length)` for each run inside the flat element range `range`, where
    /// `offsets[k]` is operand k's element offset at the run's first element.
    func forEachRun(in range: Range<Int>, _ body: (UnsafeMutableBufferPointer<Int>, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = shape.count, operands = strides.count
        let inner = shape[rank - 1]
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: operands) { current in
                var remainder = range.lowerBound
                for axis in stride(from: rank - 1, through: 0, by: -1) {
                    index[axis] = remainder % shape[axis]
                    remainder /= shape[axis]
                }
                for k in 0..<operands {
                    var offset = offsets[k]
                    for axis in 0..<rank { offset += index[axis] * strides[k][axis] }
                    current[k] = offset
                }
                var done = range.lowerBound
                while done < range.upperBound {
                    let length = Swift.min(inner - index[rank - 1], range.upperBound - done)
                    body(current, length)
                    done += length
                    // Odometer step over the outer axes to the next row.
                    index[rank - 1] = 0
                    var axis = rank - 2
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < shape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                    // Rows are long enough that recomputing beats unwinding each carried axis.
                    for k in 0..<operands {
                        var offset = offsets[k]
                        for a in 0..<(rank - 1) { offset += index[a] * strides[k][a] }
                        current[k] = offset
                    }
                }
            }
        }
    }
}
