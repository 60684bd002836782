// Element-wise arithmetic. Binary operators broadcast by NumPy's rules (without materialising
// the expanded operand) and promote int32 with float32 to float32; `/` is true division (int32
// operands give float32, as PyTorch's), `floorDivide` keeps integers. A Swift scalar on either
// side becomes a 0-d constant with a weak dtype (see `scalar(_:)`): `Int` keeps an int32
// tensor int32 and a float32 one float32, `Float` and `Double` make an int32 tensor float32 (as
// PyTorch treats Python scalars).

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.add), lhs, rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.sub), lhs, rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.mul), lhs, rhs) }
    /// True division: the result is float32 whatever the operands (`floorDivide` keeps int32).
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.div), lhs, rhs) }
    public static prefix func - (x: Tensor) -> Tensor { x.neg() }

    public static func + <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs + lhs.scalar(rhs) }
    public static func - <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs - lhs.scalar(rhs) }
    public static func * <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs * lhs.scalar(rhs) }
    public static func / <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs / lhs.scalar(rhs) }
    public static func + <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) + rhs }
    public static func - <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) - rhs }
    public static func * <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) * rhs }
    public static func / <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) / rhs }

    /// A Swift scalar as the 0-d operand of an op with `self`. Its dtype is weak, as PyTorch's
    /// Python scalars: an `Int` next to a float32 tensor is a float32 constant, so `x * 2` runs
    /// one float32 kernel and no cast. The constant comes from a small per-device cache: the
    /// same scalar again costs no allocation and no upload.
    func scalar<S: TensorScalar>(_ value: S) -> Tensor {
        if S.dtype == .int32 && dtype == .float32 {
            return ScalarConstants.tensor(bits: Float(Int32(storedBits: value.storedBits)).bitPattern, dtype: .float32, device: device)
        }
        return ScalarConstants.tensor(bits: value.storedBits, dtype: S.dtype, device: device)
    }

    /// `-x`. Bool tensors have no negation (as in PyTorch): use `.!= true` or `logicalNot`.
    public func neg() -> Tensor {
        check(dtype != .bool, "neg: a bool tensor cannot be negated; use logicalNot()")
        return unary(.neg)
    }
    public func abs() -> Tensor { unary(.abs) }
    public func exp() -> Tensor { floating.unary(.exp) }
    public func log() -> Tensor { floating.unary(.log) }
    public func sqrt() -> Tensor { floating.unary(.sqrt) }
    public func sin() -> Tensor { floating.unary(.sin) }
    public func cos() -> Tensor { floating.unary(.cos) }
    public func tanh() -> Tensor { floating.unary(.tanh) }
    public func sigmoid() -> Tensor { floating.unary(.sigmoid) }
    public func relu() -> Tensor { unary(.relu) }
    public func square() -> Tensor { unary(.square) }

    /// `true` where `self` is false (bool; other dtypes compare with 0).
    public func logicalNot() -> Tensor { self .== scalar(Int32(0)) }

    /// Integer ops (`neg`, `abs`, `relu`, `square`) on a bool tensor run on it as int32.
    private func unary(_ op: UnaryOp) -> Tensor {
        Dispatch.run(.unary(op), dtype == .bool ? cast(.int32) : self)
    }

    /// `self` raised to `exponent` element-wise (broadcasting).
    public func pow(_ exponent: Tensor) -> Tensor { Dispatch.run(.binary(.pow), self, exponent) }
    public func pow<S: TensorScalar>(_ exponent: S) -> Tensor { pow(scalar(exponent)) }

    /// `floor(self / other)` for integers (int32 stays int32, as PyTorch's `floor_divide`); for
    /// float32 operands the floor of the rounded quotient, `floor(a / b)` (Python's `//` can be
    /// one less where `a / b` rounds up to a whole number: 1 // 0.1 is 9 there, 10 here).
    /// Division by zero gives 0 for int32.
    public func floorDivide(_ other: Tensor) -> Tensor {
        if dtype.promoted(with: other.dtype) == .float32 { return (self / other).floor() }
        return Dispatch.run(.binary(.floorDivide), self, other)
    }
    public func floorDivide<S: TensorScalar>(_ other: S) -> Tensor { floorDivide(scalar(other)) }

    /// The largest integer not above each element (float32).
    public func floor() -> Tensor { floating.unary(.floor) }

    /// Element-wise maximum (NaN wins, as in NumPy).
    public func maximum(_ other: Tensor) -> Tensor { Dispatch.run(.binary(.maximum), self, other) }
    public func maximum<S: TensorScalar>(_ other: S) -> Tensor { maximum(scalar(other)) }
    /// Element-wise minimum (NaN wins, as in NumPy).
    public func minimum(_ other: Tensor) -> Tensor { Dispatch.run(.binary(.minimum), self, other) }
    public func minimum<S: TensorScalar>(_ other: S) -> Tensor { minimum(scalar(other)) }

    /// Limits every element to `min...max` (either bound may be omitted). On int32 tensors an
    /// infinite bound is no bound and finite bounds are rounded inward to integers.
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        check(!(min?.isNaN ?? false) && !(max?.isNaN ?? false), "clamp: NaN bound")
        var result = self
        if dtype == .float32 {
            if let min { result = result.maximum(Float(min)) }
            if let max { result = result.minimum(Float(max)) }
            return result
        }
        let low = Double(Int32.min), high = Double(Int32.max)
        if let min, min > low { result = result.maximum(Int(Swift.min(min.rounded(.up), high))) }
        if let max, max < high { result = result.minimum(Int(Swift.max(max.rounded(.down), low))) }
        return result
    }

    /// The tensor as float32 (functions like `exp` need a float operand).
    private var floating: Tensor { cast(.float32) }

    // Comparisons give bool masks.
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.equal), lhs, rhs) }
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.notEqual), lhs, rhs) }
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.less), lhs, rhs) }
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.lessEqual), lhs, rhs) }
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.greater), lhs, rhs) }
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.run(.binary(.greaterEqual), lhs, rhs) }
    public static func .== <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .== lhs.scalar(rhs) }
    public static func .!= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .!= lhs.scalar(rhs) }
    public static func .< <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .< lhs.scalar(rhs) }
    public static func .<= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .<= lhs.scalar(rhs) }
    public static func .> <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .> lhs.scalar(rhs) }
    public static func .>= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .>= lhs.scalar(rhs) }

    /// `condition ? a : b` element-wise, broadcasting all three; `condition` must be bool (as
    /// in PyTorch: compare first, `x .> 0`).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        check(condition.dtype == .bool, "where: the condition must be a bool tensor, got \(condition.dtype) \(condition.shape)")
        return Dispatch.run(.select, [condition, a, b])
    }

    /// `self + a * b` element-wise, broadcasting all three, each element one fused
    /// multiply-add (one rounding), as Swift's `addingProduct(_:_:)` and PyTorch's
    /// `torch.addcmul(self, a, b)`. The result is float32.
    public func addingProduct(_ a: Tensor, _ b: Tensor) -> Tensor { Dispatch.run(.addingProduct, [self, a, b]) }

    /// `self + a * b` for a Swift scalar `b` (weakly typed, as in `x * 2`).
    public func addingProduct<S: TensorScalar>(_ a: Tensor, _ b: S) -> Tensor { addingProduct(a, scalar(b)) }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
