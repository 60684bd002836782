extension Tensor {
    /// The elements in row-major order, converted to `T` (waits for the device).
    public func scalars<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        let source = T.dtype == dtype ? self : cast(T.dtype)
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
