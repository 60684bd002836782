extension Tensor {
    /// The elements in row-major order, converted to `T` (waits for the device).
    public func scalars<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        let source = T.dtype == dtype ? self : cast(T.dtype)
        if T.self == Float.self || T.self == Int32.self {
            // Their stored bits are their memory: read straight into the array.
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                Dispatch.download(source, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        return Dispatch.download(source).map(T.init(storedBits:))
    }

    /// The elements of a float32 tensor (converted from other dtypes).
    public func toArray() -> [Float] { scalars(as: Float.self) }

    /// The value of a one-element tensor.
    public func item<T: TensorScalar>(as type: T.Type = T.self) -> T {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return scalars(as: T.self)[0]
    }

    /// The value of a one-element tensor as a Float.
    public func item() -> Float { item(as: Float.self) }
}
