extension Tensor {
    /// Why this tensor holds no values, or nil: the op that made it (or one before it) found its
    /// device's memory full. Shapes still flow through later ops, which run no kernels.
    public var failure: TesselError? { storage.failure }

    /// `self`, or the error that kept it from being computed (`TesselError.outOfMemory`): read
    /// with `try x.checked().scalars()` where a full device is to be handled, not stopped on.
    /// Reading a failed tensor without it stops the program with the same message.
    public func checked() throws(TesselError) -> Tensor {
        if let failure = storage.failure { throw failure }
        return self
    }

    /// The elements in row-major order, converted to `T` (waits for the device).
    public func scalars<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        // Every TensorScalar is a trivial type, so writing into uninitialised slots is fine.
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            copyScalars(into: buffer)
            initialized = count
        }
    }

    /// Copies the elements, in row-major order, into `buffer` (which must hold `count` of
    /// them): a reused host buffer saves the page faults of a fresh array on every read.
    public func copyScalars<T: TensorScalar>(into buffer: UnsafeMutableBufferPointer<T>) {
        check(buffer.count >= count, "copyScalars: \(count) elements into a buffer of \(buffer.count)")
        let source = T.dtype == dtype ? self : cast(T.dtype)
        if T.self == Float.self || T.self == Int32.self {
            // Their stored bits are their memory: read straight into the buffer.
            Dispatch.download(source, into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[..<(count * 4)]))
            return
        }
        for (index, bits) in Dispatch.download(source).enumerated() { buffer[index] = T(storedBits: bits) }
    }

    /// The elements of a float32 tensor (converted from other dtypes).
    public func toArray() -> [Float] { scalars(as: Float.self) }

    /// The value of a one-element tensor.
    public func item<T: TensorScalar>(as type: T.Type = T.self) -> T {
        check(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return scalars(as: T.self)[0]
    }

    /// The value of a one-element tensor as a Float.
    public func item() -> Float { item(as: Float.self) }
}
