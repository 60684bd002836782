/// Shape, strides (in elements) and offset of a view into a buffer. No storage lives here.
///
/// A stride of 0 repeats an element: that is how broadcasting works without copying.
public struct Layout: Equatable, Sendable, CustomStringConvertible {
    public var shape: Dims
    public var strides: Dims
    public var offset: Int

    /// A row-major, densely packed layout.
    public init(contiguous shape: Dims, offset: Int = 0) {
        self.shape = shape
        self.strides = Layout.rowMajorStrides(shape)
        self.offset = offset
    }

    public init(contiguous shape: [Int], offset: Int = 0) { self.init(contiguous: Dims(shape), offset: offset) }

    public init(shape: Dims, strides: Dims, offset: Int) {
        check(shape.count == strides.count, "Layout: shape \(shape) and strides \(strides) differ in rank")
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    public init(shape: [Int], strides: [Int], offset: Int) { self.init(shape: Dims(shape), strides: Dims(strides), offset: offset) }

    public var rank: Int { shape.count }
    public var count: Int { shape.product }
    public var description: String { "Layout(shape: \(shape), strides: \(strides), offset: \(offset))" }

    static func rowMajorStrides(_ shape: Dims) -> Dims {
        var strides = Dims(repeating: 1, count: shape.count)
        var running = 1, axis = shape.count - 1
        while axis >= 0 {
            strides[axis] = running
            running *= Swift.max(shape[unchecked: axis], 1)
            axis -= 1
        }
        return strides
    }

    /// True when the elements are row-major and densely packed (offset may be non-zero).
    public var isContiguous: Bool {
        // Every op asks this of every operand: plain loops, no collection adaptors.
        var expected = 1, axis = rank - 1
        while axis >= 0 {
            let size = shape[unchecked: axis]
            if size != 1 {
                if strides[unchecked: axis] != expected { return false }
                expected *= size
            }
            axis -= 1
        }
        return true
    }

    /// The axis order (outermost first) under which the view is contiguous, when it is a
    /// permutation of a contiguous layout (a transpose, channels-last images seen as NCHW); nil
    /// when it has gaps, overlaps or broadcasts. Size-1 axes go first: their strides are free.
    var denseAxisOrder: [Int]? {
        let order = shape.indices.sorted { a, b in
            if (shape[a] == 1) != (shape[b] == 1) { return shape[a] == 1 }
            return strides[a] != strides[b] ? strides[a] > strides[b] : a < b
        }
        return permuted(order).isContiguous ? order : nil
    }

    /// The step of the view seen as one flat run in row-major order: 1 when it is contiguous,
    /// 0 when every element is the same one (a broadcast scalar), nil otherwise.
    var flatStride: Int? {
        if isContiguous { return 1 }
        for axis in 0..<rank where shape[unchecked: axis] != 1 && strides[unchecked: axis] != 0 { return nil }
        return 0
    }

    /// Merges neighbouring axes that step through memory as one axis, and drops size-1 axes.
    ///
    /// Kernels iterate over the collapsed form: a contiguous tensor of any rank becomes rank 1,
    /// and a broadcast row vector over a matrix stays rank 2. The result always has rank >= 1.
    func collapsed() -> Layout { CollapsedLayouts([self]).layout(0) }

    /// Collapses several same-shape layouts together, merging an axis pair only where every
    /// layout allows it, so the views stay element-for-element aligned.
    static func collapse(_ layouts: [Layout]) -> [Layout] {
        let together = CollapsedLayouts(layouts)
        return layouts.indices.map { together.layout($0) }
    }

    /// The view with `shape` reached by broadcasting (NumPy rules), using stride 0 for new axes.
    func broadcast(to target: Dims, op: @autoclosure () -> String) -> Layout {
        if shape == target { return self }
        check(target.count >= rank, "\(op()): cannot broadcast shape \(shape) to \(target)")
        let lead = target.count - rank
        var strides = Dims(repeating: 0, count: target.count)
        for axis in 0..<rank {
            if shape[axis] == target[lead + axis] {
                strides[lead + axis] = self.strides[axis]
            } else {
                check(shape[axis] == 1, "\(op()): cannot broadcast shape \(shape) to \(target)")
            }
        }
        return Layout(shape: target, strides: strides, offset: offset)
    }

    func broadcast(to target: [Int], op: @autoclosure () -> String) -> Layout { broadcast(to: Dims(target), op: op()) }

    /// The shape two operands broadcast to, or a stop naming the op and both shapes.
    static func broadcastShape(_ a: Dims, _ b: Dims, op: @autoclosure () -> String) -> Dims {
        guard let shape = broadcastShape(a, b) else { checkFailure("\(op()): shapes \(a) and \(b) cannot be broadcast together") }
        return shape
    }

    /// The shape two operands broadcast to (NumPy rules), or nil when they cannot.
    static func broadcastShape(_ a: Dims, _ b: Dims) -> Dims? {
        if a == b { return a }
        let rank = Swift.max(a.count, b.count)
        var result = Dims(repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Reorders the axes.
    func permuted<Order: Collection<Int>>(_ order: Order) -> Layout {
        var result = Layout(shape: Dims(), strides: Dims(), offset: offset)
        for axis in order {
            result.shape.append(shape[axis])
            result.strides.append(strides[axis])
        }
        return result
    }

    /// The same elements seen with a new shape, without copying, when the strides allow it.
    ///
    /// Works axis group by axis group (as NumPy's `_attempt_nocopy_reshape`): each run of old axes
    /// that maps onto a run of new axes must be contiguous within itself.
    func reshapedView(_ newShape: [Int]) -> Layout? {
        if isContiguous || count == 0 { return Layout(contiguous: newShape, offset: offset) }
        let old = zip(shape, strides).filter { $0.0 != 1 }
        var newStrides = [Int](repeating: 0, count: newShape.count)
        var oi = 0, ni = 0
        while ni < newShape.count || oi < old.count {
            if ni < newShape.count && newShape[ni] == 1 { newStrides[ni] = 1; ni += 1; continue }
            guard oi < old.count, ni < newShape.count else { return nil }
            var oldSize = old[oi].0, newSize = newShape[ni]
            let oStart = oi, nStart = ni
            while oldSize != newSize {
                if oldSize < newSize { oi += 1; guard oi < old.count else { return nil }; oldSize *= old[oi].0 }
                else { ni += 1; guard ni < newShape.count else { return nil }; newSize *= newShape[ni] }
            }
            for k in oStart..<oi where old[k].1 != old[k + 1].1 * old[k + 1].0 { return nil }
            var step = old[oi].1
            for k in Swift.stride(from: ni, through: nStart, by: -1) {
                newStrides[k] = step
                step *= newShape[k]
            }
            oi += 1; ni += 1
        }
        return Layout(shape: newShape, strides: newStrides, offset: offset)
    }
}

/// Several same-shape layouts collapsed together (see `Layout.collapse`), held inline (no
/// heap array): the CPU run walker takes this form directly, since small ops spend much of
/// their time here.
struct CollapsedLayouts {
    /// The most operands collapsed together (a `where`: condition, two sides and the output).
    static let maxOperands = 4

    /// The collapsed shape (rank >= 1).
    private(set) var shape = Dims()
    /// Each operand's strides along the collapsed axes.
    private var strides = InlineArray<4, Dims>(repeating: Dims())
    /// Each operand's element offset.
    private(set) var offsets = InlineArray<4, Int>(repeating: 0)
    let operandCount: Int

    init(_ layouts: [Layout]) {
        let source = layouts[0].shape
        operandCount = layouts.count
        check(operandCount <= CollapsedLayouts.maxOperands, "collapse: \(operandCount) operands, at most \(CollapsedLayouts.maxOperands)")
        for k in 0..<operandCount {
            check(layouts[k].shape == source, "collapse: shapes \(source) and \(layouts[k].shape) differ")
            offsets[k] = layouts[k].offset
        }
        for axis in source.indices where source[axis] != 1 {
            let size = source[axis]
            if let last = shape.indices.last,
               (0..<operandCount).allSatisfy({ strides[$0][last] == layouts[$0].strides[axis] * size }) {
                shape[last] *= size
                for k in 0..<operandCount { strides[k][last] = layouts[k].strides[axis] }
            } else {
                shape.append(size)
                for k in 0..<operandCount { strides[k].append(layouts[k].strides[axis]) }
            }
        }
        if shape.isEmpty {
            shape.append(1)
            for k in 0..<operandCount { strides[k].append(1) }
        }
    }

    /// Operand `operand`'s stride along collapsed axis `axis`.
    @inline(__always) func stride(_ operand: Int, _ axis: Int) -> Int { strides[operand][axis] }

    /// Operand `operand`'s collapsed layout.
    func layout(_ operand: Int) -> Layout { Layout(shape: shape, strides: strides[operand], offset: offsets[operand]) }
}
