/// Walks a collapsed iteration space shared by several strided operands, in runs along its
/// last axis: the inner loops of every CPU kernel see a start offset per operand, a stride per
/// operand and a length, and can pick a SIMD path when the strides are 1 or 0.
///
/// The operands' layouts are collapsed together first (`CollapsedLayouts`).
struct StridedRuns {
    private let collapsed: CollapsedLayouts

    /// Collapses the operands' layouts together (they must share a shape).
    init(_ layouts: [Layout]) { collapsed = CollapsedLayouts(layouts) }

    /// The collapsed shape (rank >= 1).
    var shape: Dims { collapsed.shape }
    /// Each operand's element offset.
    var offsets: InlineArray<4, Int> { collapsed.offsets }
    /// Operand `operand`'s stride along collapsed axis `axis`.
    @inline(__always) func stride(_ operand: Int, _ axis: Int) -> Int { collapsed.stride(operand, axis) }
    @inline(__always) func innerStride(_ operand: Int) -> Int { stride(operand, shape.count - 1) }

    /// Calls `body(offsets, length)` for each run inside the flat element range `range`, where
    /// `offsets[k]` is operand k's element offset at the run's first element.
    func forEachRun(in range: Range<Int>, _ body: (UnsafeMutableBufferPointer<Int>, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = shape.count, operands = collapsed.operandCount
        // The walk reads sizes and strides per row: copied once into flat scratch memory, so
        // the loops index plain pointers instead of the collapse's inline lists.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank * (operands + 2) + operands) { scratch in
            let sizes = scratch.baseAddress!, index = sizes + rank, strides = index + rank
            let current = UnsafeMutableBufferPointer(start: strides + operands * rank, count: operands)
            for axis in 0..<rank {
                sizes[axis] = shape[axis]
                for k in 0..<operands { strides[k * rank + axis] = stride(k, axis) }
            }
            let starts = offsets
            var remainder = range.lowerBound
            for axis in Swift.stride(from: rank - 1, through: 0, by: -1) {
                index[axis] = remainder % sizes[axis]
                remainder /= sizes[axis]
            }
            for k in 0..<operands {
                var offset = starts[k]
                for axis in 0..<rank { offset += index[axis] * strides[k * rank + axis] }
                current[k] = offset
            }
            let inner = sizes[rank - 1]
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
                    if index[axis] < sizes[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
                // Rows are long enough that recomputing beats unwinding each carried axis.
                for k in 0..<operands {
                    var offset = starts[k]
                    for a in 0..<(rank - 1) { offset += index[a] * strides[k * rank + a] }
                    current[k] = offset
                }
            }
        }
    }
}
