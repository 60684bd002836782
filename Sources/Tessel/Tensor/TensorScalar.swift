/// A Swift type that can fill or be read from a tensor.
///
/// `Int` and `Double` are accepted for convenience and narrowed to `int32` and `float32`.
public protocol TensorScalar: Sendable {
    /// The dtype a tensor built from this type gets.
    static var dtype: DType { get }
    /// The 4-byte pattern stored in a tensor of `dtype`.
    var storedBits: UInt32 { get }
    /// Reads a value of this type back from a stored pattern of `Self.dtype`.
    init(storedBits: UInt32)
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    public var storedBits: UInt32 { bitPattern }
    public init(storedBits: UInt32) { self.init(bitPattern: storedBits) }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float32 }
    public var storedBits: UInt32 { Float(self).bitPattern }
    public init(storedBits: UInt32) { self.init(Float(bitPattern: storedBits)) }
}

extension Int32: TensorScalar {
    public static var dtype: DType { .int32 }
    public var storedBits: UInt32 { UInt32(bitPattern: self) }
    public init(storedBits: UInt32) { self.init(bitPattern: storedBits) }
}

extension Int: TensorScalar {
    public static var dtype: DType { .int32 }
    public var storedBits: UInt32 {
        check(self >= Int(Int32.min) && self <= Int(Int32.max), "Int \(self) does not fit in int32")
        return UInt32(bitPattern: Int32(self))
    }
    public init(storedBits: UInt32) { self.init(Int32(bitPattern: storedBits)) }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    public var storedBits: UInt32 { self ? 1 : 0 }
    public init(storedBits: UInt32) { self = storedBits != 0 }
}
