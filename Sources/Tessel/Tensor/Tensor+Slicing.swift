/// One entry of a subscript: `t[1]`, `t[1..<3]`, `t[.all, 0]`, `t[.stride(0..<8, by: 2)]`, `t[.newAxis]`.
public enum TensorIndex: Sendable, Equatable {
    /// One position (negative counts from the end); removes the axis.
    case at(Int)
    /// A range with a non-zero step; `nil` bounds mean the start or end of the walk, and a
    /// negative step walks backwards (`.range(start: nil, end: nil, step: -1)` is NumPy's `::-1`).
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
    // Through -1 is through the last element: the end is open, not 0.
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}

extension Tensor {
    /// A view selecting positions along the leading axes; unnamed trailing axes are kept whole.
    /// Negative positions and bounds count from the end of the axis, as in NumPy.
    ///
    /// Assigning writes into the viewed elements of the base tensor (broadcasting the value, as
    /// PyTorch's `x[0:3] = y`): `x[0..<3] = Tensor([1, 2, 3])`, `x[.all, 0] = Tensor(Float(0))`.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        get { slice(indices.map(\.tensorIndex)) }
        set {
            var view = slice(indices.map(\.tensorIndex))
            if view.layout == layout {
                // The whole tensor (x[.all] = y): written as itself, so a recorded write's new
                // history lands on this variable rather than on a discarded view.
                self.copy(from: newValue)
            } else {
                view.copy(from: newValue)
            }
        }
    }

    /// The view for a list of indices (see the variadic subscript).
    public func slice(_ indices: [TensorIndex]) -> Tensor { Dispatch.run(.slice(indices), [self]) }
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
    /// Every `step`-th position from `start` towards `end` (nil: the ends of the walk); a
    /// negative step walks backwards: `.stride(by: -1)` is NumPy's `x[::-1]`, `.stride(from: 2,
    /// by: 3)` its `x[2::3]`.
    public static func stride(from start: Int? = nil, to end: Int? = nil, by step: Int) -> TensorIndex {
        .range(start: start, end: end, step: step)
    }
}
