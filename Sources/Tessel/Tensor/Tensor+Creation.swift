extension Tensor {
    /// A tensor from row-major `scalars` with the given shape.
    ///
    /// - Throws: `TesselError.elementCountMismatch` when `scalars` does not fill `shape`.
    public init<S: TensorScalar>(_ scalars: [S], shape: [Int], device: Device = .default) throws(TesselError) {
        let expected = shape.reduce(1, *)
        guard scalars.count == expected, shape.allSatisfy({ $0 >= 0 }) else {
            throw .elementCountMismatch(expected: expected, got: scalars.count, shape: shape)
        }
        self = Tensor.uploading(scalars, shape: shape, device: device)
    }

    /// A one-dimensional tensor of `scalars`.
    public init<S: TensorScalar>(_ scalars: [S], device: Device = .default) {
        self = Tensor.uploading(scalars, shape: [scalars.count], device: device)
    }

    /// Uploads `scalars`; Float and Int32 arrays go as they lie in memory, without a per-element pass.
    private static func uploading<S: TensorScalar>(_ scalars: [S], shape: [Int], device: Device) -> Tensor {
        if S.self == Float.self || S.self == Int32.self {
            return scalars.withUnsafeBytes { fromHost($0, shape: shape, dtype: S.dtype, device: device) }
        }
        return fromHost(bits: scalars.map(\.storedBits), shape: shape, dtype: S.dtype, device: device)
    }

    /// A tensor holding `bytes` (4 per element, already in the dtype's format).
    static func fromHost(_ bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType, device: Device) -> Tensor {
        check(bytes.count == Layout.elementCount(shape, op: "Tensor(_:shape:)") * 4,
              "Tensor(_:shape:): \(bytes.count / 4) elements for shape \(shape)")
        return Dispatch.run(.fromHost(shape: shape, dtype: dtype, device: device), [], host: bytes)
    }

    /// A tensor holding the 4-byte patterns `bits`.
    static func fromHost(bits: [UInt32], shape: [Int], dtype: DType, device: Device) -> Tensor {
        bits.withUnsafeBytes { fromHost($0, shape: shape, dtype: dtype, device: device) }
    }

    /// A zero-dimensional tensor holding one value.
    public init<S: TensorScalar>(_ scalar: S, device: Device = .default) {
        self = Tensor.filled([], dtype: S.dtype, bits: scalar.storedBits, device: device)
    }

    /// A tensor of `shape` with every element the pattern `bits`.
    static func filled(_ shape: [Int], dtype: DType, bits: UInt32, device: Device) -> Tensor {
        _ = Layout.elementCount(shape, op: "full")
        return Dispatch.run(.full(shape: shape, dtype: dtype, bits: bits, device: device), [])
    }

    /// A tensor from nested arrays, `Tensor([[1, 2], [3, 4]])`; the innermost element type sets the dtype.
    ///
    /// Ragged nesting is a programmer error and stops with a message.
    public init<Element: TensorLiteral>(_ nested: [[Element]], device: Device = .default) {
        var bits: [UInt32] = []
        let shape = [nested.count] + [Element].literalShape(of: nested, op: "Tensor(_:)", appending: &bits)
        self = Tensor.fromHost(bits: bits, shape: shape, dtype: Element.literalDType, device: device)
    }

    /// Zeros of `dtype`.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .default) -> Tensor {
        filled(shape, dtype: dtype, bits: 0, device: device)
    }

    /// Ones of `dtype`.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .default) -> Tensor {
        full(shape, 1, dtype: dtype, device: device)
    }

    /// Every element set to `value`, converted to `dtype` (for int32: truncated toward zero; NaN
    /// and values out of int32's range stop with a message).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .default) -> Tensor {
        filled(shape, dtype: dtype, bits: storedBits(value, dtype, op: "full"), device: device)
    }

    /// `value` as the 4-byte pattern of `dtype`, or a stop naming `op` when int32 cannot hold it.
    static func storedBits(_ value: Double, _ dtype: DType, op: String) -> UInt32 {
        switch dtype {
        case .float32: return Float(value).bitPattern
        case .int32:
            // Fractions truncate toward zero, as PyTorch's; NaN and values past int32 have no int32.
            let truncated = value.rounded(.towardZero)
            check(truncated >= Double(Int32.min) && truncated <= Double(Int32.max),
                  "\(op): \(value) does not fit in int32")
            return UInt32(bitPattern: Int32(truncated))
        case .bool: return value != 0 ? 1 : 0
        }
    }

    /// `0, 1, ..., end - 1` as int32, as NumPy's `arange(end)`.
    public static func arange(_ end: Int, device: Device = .default) -> Tensor { arange(0, end, device: device) }

    /// `start, start + step, ...` up to but excluding `end`, as NumPy's `arange`.
    /// Integer arguments give an int32 tensor.
    public static func arange(_ start: Int, _ end: Int, step: Int = 1, device: Device = .default) -> Tensor {
        check(step != 0, "arange: step must not be 0")
        let values = Array(Swift.stride(from: start, to: end, by: step))
        return Tensor(values.map { Int32($0) }, device: device)
    }

    /// Float `arange`: `start, start + step, ...` below `end`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1, device: Device = .default) -> Tensor {
        check(step != 0, "arange: step must not be 0")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step }, device: device)
    }

    /// `count` evenly spaced float32 values from `start` to `end`, both included, as
    /// `torch.linspace` (computed in double precision, each value rounded once).
    public static func linspace(_ start: Double, _ end: Double, count: Int, device: Device = .default) -> Tensor {
        check(count >= 0, "linspace: count must not be negative, got \(count)")
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        let values = (0..<count).map { i in Float(i == count - 1 && count > 1 ? end : start + Double(i) * step) }
        return Tensor(values, device: device)
    }

    /// A tensor of `shape` from bytes, one per element (pixels, IDX files), as int32 or float32
    /// values 0...255. The bytes travel to the device as they are and are widened there, so a
    /// batch of images costs a quarter of its float size to upload and no host conversion.
    public init(bytes: [UInt8], shape: [Int], dtype: DType = .int32, device: Device = .default) throws(TesselError) {
        let expected = Layout.elementCount(shape, op: "Tensor(bytes:)")
        guard bytes.count == expected else { throw .elementCountMismatch(expected: expected, got: bytes.count, shape: shape) }
        self = bytes.withUnsafeBytes { Tensor.widening($0, shape: shape, dtype: dtype, device: device) }
    }

    /// A tensor from `count(shape)` bytes in memory (see `init(bytes:shape:dtype:device:)`).
    public init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType = .int32, device: Device = .default) throws(TesselError) {
        let expected = Layout.elementCount(shape, op: "Tensor(bytes:)")
        guard bytes.count == expected else { throw .elementCountMismatch(expected: expected, got: bytes.count, shape: shape) }
        self = Tensor.widening(bytes, shape: shape, dtype: dtype, device: device)
    }

    private static func widening(_ bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType, device: Device) -> Tensor {
        check(dtype != .bool, "Tensor(bytes:): bytes become int32 or float32, not bool")
        return Dispatch.run(.fromBytes(shape: shape, dtype: dtype, device: device), [], host: bytes)
    }

    /// The `n` x `m` identity matrix (`m` defaults to `n`).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .default) -> Tensor {
        let columns = m ?? n
        let one = dtype == .float32 ? Float(1).bitPattern : 1
        var bits = [UInt32](repeating: 0, count: n * columns)
        for i in 0..<Swift.min(n, columns) { bits[i * columns + i] = one }
        return fromHost(bits: bits, shape: [n, columns], dtype: dtype, device: device)
    }
}

/// Element types and nested arrays accepted by `Tensor(_ nested:)`.
public protocol TensorLiteral {
    /// The dtype of the innermost elements.
    static var literalDType: DType { get }
    /// Appends the elements of `values` in row-major order and returns the shape below the outer axis.
    static func literalShape(of values: [Self], op: String, appending bits: inout [UInt32]) -> [Int]
}

extension TensorLiteral where Self: TensorScalar {
    public static var literalDType: DType { dtype }
    public static func literalShape(of values: [Self], op: String, appending bits: inout [UInt32]) -> [Int] {
        bits.append(contentsOf: values.map(\.storedBits))
        return []
    }
}

extension Float: TensorLiteral {}
extension Double: TensorLiteral {}
extension Int: TensorLiteral {}
extension Int32: TensorLiteral {}
extension Bool: TensorLiteral {}

extension Array: TensorLiteral where Element: TensorLiteral {
    public static var literalDType: DType { Element.literalDType }
    public static func literalShape(of values: [[Element]], op: String, appending bits: inout [UInt32]) -> [Int] {
        guard let first = values.first else { return [0] }
        var shape: [Int]? = nil
        for row in values {
            check(row.count == first.count, "\(op): ragged nested array (rows of \(first.count) and \(row.count))")
            let inner = [row.count] + Element.literalShape(of: row, op: op, appending: &bits)
            check(shape == nil || shape == inner, "\(op): ragged nested array (shapes \(shape!) and \(inner))")
            shape = inner
        }
        return shape!
    }
}
