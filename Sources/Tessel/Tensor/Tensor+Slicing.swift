/// One entry of a subscript: `t[1]`, `t[1..<3]`, `t[.all, 0]`, `t[.stride(0..<8, by: 2)]`, `t[.newAxis]`.
public enum TensorIndex: Sendable {
    /// One position (negative counts from the end); removes the axis.
    case at(Int)
    /// A range with a positive step; `nil` bounds mean the start or end of the axis.
    case range(start: Int?, end: Int?, step: Int)
    /// Inserts a size-1 axis (spelled `.newAxis` in a subscript).
    case insertAxis
}

/// Things that can stand in a tensor subscript.
public protocol TensorIndexConvertible {
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexConvertible { public var tensorIndex: TensorIndex { self } }
extension Int: TensorIndexConvertible { public var tensorIndex: TensorIndex { .at(self) } }
extension Range: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound + 1, step: 1) }
}

extension Tensor {
    /// A view selecting positions along the leading axes; unnamed trailing axes are kept whole.
    /// Negative positions and bounds count from the end of the axis, as in NumPy.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor { slice(indices.map(\.tensorIndex)) }

    /// The view for a list of indices (see the variadic subscript).
    public func slice(_ indices: [TensorIndex]) -> Tensor {
        var shape: [Int] = [], strides: [Int] = []
        var offset = layout.offset
        var axis = 0
        for index in indices {
            switch index {
            case .insertAxis:
                shape.append(1)
                strides.append(0)
            case .at(let position):
                precondition(axis < rank, "subscript: too many indices for shape \(self.shape)")
                let size = self.shape[axis]
                let p = position < 0 ? position + size : position
                precondition(p >= 0 && p < size, "subscript: index \(position) out of range for axis \(axis) of shape \(self.shape)")
                offset += p * layout.strides[axis]
                axis += 1
            case .range(let start, let end, let step):
                precondition(axis < rank, "subscript: too many indices for shape \(self.shape)")
                precondition(step > 0, "subscript: step must be positive, got \(step)")
                let size = self.shape[axis]
                func clampBound(_ bound: Int?, _ fallback: Int) -> Int {
                    guard let bound else { return fallback }
                    return Swift.min(Swift.max(bound < 0 ? bound + size : bound, 0), size)
                }
                let lo = clampBound(start, 0), hi = Swift.max(clampBound(end, size), lo)
                shape.append((hi - lo + step - 1) / step)
                strides.append(layout.strides[axis] * step)
                offset += lo * layout.strides[axis]
                axis += 1
            }
        }
        shape += self.shape[axis...]
        strides += layout.strides[axis...]
        return viewing(Layout(shape: shape, strides: strides, offset: offset))
    }
}

// Lets `.all`, `.newAxis` and `.stride` stand in a subscript list (SE-0299).
extension TensorIndexConvertible where Self == TensorIndex {
    /// The whole axis.
    public static var all: TensorIndex { .range(start: nil, end: nil, step: 1) }
    /// Inserts a size-1 axis.
    public static var newAxis: TensorIndex { .insertAxis }
    /// Every `step`-th position of `range`.
    public static func stride(_ range: Range<Int>, by step: Int) -> TensorIndex {
        .range(start: range.lowerBound, end: range.upperBound, step: step)
    }
}
