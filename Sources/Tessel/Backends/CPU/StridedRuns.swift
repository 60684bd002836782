/// Walks a collapsed iteration space shared by several strided operands, in runs along its
/// last axis: the inner loops of every CPU kernel see a start offset per operand, a stride per
/// operand and a length, and can pick a SIMD path when the strides are 1 or 0.
///
/// The operands' layouts are collapsed together (neighbouring axes that step through memory
/// as one merge, size-1 axes drop) into three flat arrays: small ops spend most of their time
/// here, and a nested array per operand cost an allocation each.
struct StridedRuns {
    /// The collapsed shape (rank >= 1).
    let shape: [Int]
    /// Operand k's stride along axis a at `strideTable[k * pitch + a]`.
    private let strideTable: [Int]
    private let pitch: Int
    /// Each operand's element offset.
    let offsets: [Int]

    /// Collapses the operands' layouts together (they must share a shape).
    init(_ layouts: [Layout]) {
        let source = layouts[0].shape
        for layout in layouts { check(layout.shape == source, "StridedRuns: shapes \(source) and \(layout.shape) differ") }
        let operands = layouts.count, pitch = Swift.max(source.count, 1)
        var shape: [Int] = []
        shape.reserveCapacity(pitch)
        var table = [Int](repeating: 0, count: operands * pitch)
        for axis in source.indices where source[axis] != 1 {
            let size = source[axis]
            if let last = shape.indices.last,
               (0..<operands).allSatisfy({ table[$0 * pitch + last] == layouts[$0].strides[axis] * size }) {
                shape[last] *= size
                for k in 0..<operands { table[k * pitch + last] = layouts[k].strides[axis] }
            } else {
                for k in 0..<operands { table[k * pitch + shape.count] = layouts[k].strides[axis] }
                shape.append(size)
            }
        }
        if shape.isEmpty {
            shape = [1]
            for k in 0..<operands { table[k * pitch] = 1 }
        }
        self.shape = shape
        self.pitch = pitch
        strideTable = table
        offsets = layouts.map(\.offset)
    }

    var innerLength: Int { shape[shape.count - 1] }
    /// Operand `operand`'s stride along collapsed axis `axis`.
    @inline(__always) func stride(_ operand: Int, _ axis: Int) -> Int { strideTable[operand * pitch + axis] }
    @inline(__always) func innerStride(_ operand: Int) -> Int { stride(operand, shape.count - 1) }

    /// Calls `body(offsets, length)` for each run inside the flat element range `range`, where
    /// `offsets[k]` is operand k's element offset at the run's first element.
    func forEachRun(in range: Range<Int>, _ body: (UnsafeMutableBufferPointer<Int>, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = shape.count, operands = offsets.count
        let inner = shape[rank - 1]
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: operands) { current in
                var remainder = range.lowerBound
                for axis in Swift.stride(from: rank - 1, through: 0, by: -1) {
                    index[axis] = remainder % shape[axis]
                    remainder /= shape[axis]
                }
                for k in 0..<operands {
                    var offset = offsets[k]
                    for axis in 0..<rank { offset += index[axis] * stride(k, axis) }
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
                        for a in 0..<(rank - 1) { offset += index[a] * stride(k, a) }
                        current[k] = offset
                    }
                }
            }
        }
    }
}
