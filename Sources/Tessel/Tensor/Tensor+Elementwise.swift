// Element-wise arithmetic. Binary operators broadcast by NumPy's rules (without materialising
// the expanded operand) and promote int32 with float32 to float32. A Swift scalar on either
// side becomes a 0-d tensor of its own dtype: `Int` keeps an int32 tensor int32, `Float` and
// `Double` make it float32 (as PyTorch treats Python scalars).

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.add, lhs, rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.sub, lhs, rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.mul, lhs, rhs) }
    /// True division: int32 operands give an int32 (truncated) result; cast to float32 first for a fraction.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.div, lhs, rhs) }
    public static prefix func - (x: Tensor) -> Tensor { Dispatch.unary(.neg, x) }

    public static func + <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs + lhs.scalar(rhs) }
    public static func - <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs - lhs.scalar(rhs) }
    public static func * <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs * lhs.scalar(rhs) }
    public static func / <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs / lhs.scalar(rhs) }
    public static func + <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) + rhs }
    public static func - <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) - rhs }
    public static func * <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) * rhs }
    public static func / <S: TensorScalar>(lhs: S, rhs: Tensor) -> Tensor { rhs.scalar(lhs) / rhs }

    /// A 0-d tensor on this tensor's device.
    func scalar<S: TensorScalar>(_ value: S) -> Tensor { Tensor(value, device: device) }

    public func neg() -> Tensor { Dispatch.unary(.neg, self) }
    public func abs() -> Tensor { Dispatch.unary(.abs, self) }
    public func exp() -> Tensor { Dispatch.unary(.exp, floating) }
    public func log() -> Tensor { Dispatch.unary(.log, floating) }
    public func sqrt() -> Tensor { Dispatch.unary(.sqrt, floating) }
    public func sin() -> Tensor { Dispatch.unary(.sin, floating) }
    public func cos() -> Tensor { Dispatch.unary(.cos, floating) }
    public func tanh() -> Tensor { Dispatch.unary(.tanh, floating) }
    public func sigmoid() -> Tensor { Dispatch.unary(.sigmoid, floating) }
    public func relu() -> Tensor { Dispatch.unary(.relu, self) }
    public func square() -> Tensor { Dispatch.unary(.square, self) }

    /// `self` raised to `exponent` element-wise (broadcasting).
    public func pow(_ exponent: Tensor) -> Tensor { Dispatch.binary(.pow, self, exponent) }
    public func pow<S: TensorScalar>(_ exponent: S) -> Tensor { pow(scalar(exponent)) }

    /// Element-wise maximum (NaN wins, as in NumPy).
    public func maximum(_ other: Tensor) -> Tensor { Dispatch.binary(.maximum, self, other) }
    public func maximum<S: TensorScalar>(_ other: S) -> Tensor { maximum(scalar(other)) }
    /// Element-wise minimum (NaN wins, as in NumPy).
    public func minimum(_ other: Tensor) -> Tensor { Dispatch.binary(.minimum, self, other) }
    public func minimum<S: TensorScalar>(_ other: S) -> Tensor { minimum(scalar(other)) }

    /// Limits every element to `min...max` (either bound may be omitted).
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        var result = self
        if let min { result = result.maximum(dtype == .float32 ? Tensor(Float(min), device: device) : Tensor(Int(min), device: device)) }
        if let max { result = result.minimum(dtype == .float32 ? Tensor(Float(max), device: device) : Tensor(Int(max), device: device)) }
        return result
    }

    /// The tensor as float32 (functions like `exp` need a float operand).
    private var floating: Tensor { cast(.float32) }

    // Comparisons give bool masks.
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.equal, lhs, rhs) }
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.notEqual, lhs, rhs) }
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.less, lhs, rhs) }
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.lessEqual, lhs, rhs) }
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.greater, lhs, rhs) }
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { Dispatch.binary(.greaterEqual, lhs, rhs) }
    public static func .== <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .== lhs.scalar(rhs) }
    public static func .!= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .!= lhs.scalar(rhs) }
    public static func .< <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .< lhs.scalar(rhs) }
    public static func .<= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .<= lhs.scalar(rhs) }
    public static func .> <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .> lhs.scalar(rhs) }
    public static func .>= <S: TensorScalar>(lhs: Tensor, rhs: S) -> Tensor { lhs .>= lhs.scalar(rhs) }

    /// `condition ? a : b` element-wise, broadcasting all three.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor { Dispatch.select(condition, a, b) }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
