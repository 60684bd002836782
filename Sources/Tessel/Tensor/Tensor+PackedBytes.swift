extension Tensor {
    /// Bytes kept four to an int32 element on the device, for data that is bytes at heart (a
    /// dataset's pixels): the rows of `shape`'s last axis (L bytes each) become int32 rows of
    /// ceil(L / 4) words, byte j of a row in byte j % 4 of word j / 4 (little-endian), a short
    /// last word padded with zeros. ``unpackingBytes(count:dtype:)`` widens them again, so a
    /// set kept packed costs a quarter of its float size, and so does each batch gathered from
    /// it with ``indexSelect(axis:indices:)``.
    ///
    /// - Throws: `TesselError.elementCountMismatch` when `bytes` does not fill `shape`.
    public init(packingBytes bytes: UnsafeRawBufferPointer, shape: [Int], device: Device = .default) throws(TesselError) {
        let expected = Layout.elementCount(shape, op: "Tensor(packingBytes:)")
        guard bytes.count == expected else { throw .elementCountMismatch(expected: expected, got: bytes.count, shape: shape) }
        self = Tensor.packing(bytes, shape: shape, device: device)
    }

    private static func packing(_ bytes: UnsafeRawBufferPointer, shape: [Int], device: Device) -> Tensor {
        check(!shape.isEmpty, "Tensor(packingBytes:): needs at least one axis, got shape []")
        let rowLength = shape[shape.count - 1], rowWords = (rowLength + 3) / 4
        var packedShape = shape
        packedShape[shape.count - 1] = rowWords
        if rowLength % 4 == 0 { return fromHost(bytes, shape: packedShape, dtype: .int32, device: device) }
        // Rows padded to whole words on the host (a row length that is a multiple of 4, as
        // MNIST's 784, needs no copy).
        let rows = rowLength == 0 ? 0 : bytes.count / rowLength
        var padded = [UInt8](repeating: 0, count: rows * rowWords * 4)
        padded.withUnsafeMutableBytes { target in
            for row in 0..<rows {
                let source = UnsafeRawBufferPointer(rebasing: bytes[(row * rowLength)..<((row + 1) * rowLength)])
                UnsafeMutableRawBufferPointer(rebasing: target[(row * rowWords * 4)...]).copyMemory(from: source)
            }
        }
        return padded.withUnsafeBytes { fromHost($0, shape: packedShape, dtype: .int32, device: device) }
    }

    /// `init(packingBytes:shape:device:)` for bytes in an array.
    public init(packingBytes bytes: [UInt8], shape: [Int], device: Device = .default) throws(TesselError) {
        let expected = Layout.elementCount(shape, op: "Tensor(packingBytes:)")
        guard bytes.count == expected else { throw .elementCountMismatch(expected: expected, got: bytes.count, shape: shape) }
        self = bytes.withUnsafeBytes { Tensor.packing($0, shape: shape, device: device) }
    }

    /// The bytes this int32 tensor holds packed (see `init(packingBytes:shape:device:)`)
    /// widened to `dtype`, int32 or float32 values 0...255: [..., W] becomes [..., count], the
    /// first `count` bytes of each row (all 4 * W by default). One kernel on the device.
    public func unpackingBytes(count: Int? = nil, dtype: DType = .float32) -> Tensor {
        check(dtype != .bool, "unpackingBytes: bytes become int32 or float32, not bool")
        return unpacking(count: count, dtype: dtype, scale: 1, shift: 0)
    }

    /// The packed bytes widened to float32 `byte * scale + shift`, one fused multiply-add each:
    /// a batch of pixels scaled and normalised in the kernel that widens it (`scale` 1 / (255 *
    /// std), `shift` -mean / std).
    public func unpackingBytes(count: Int? = nil, scale: Float, shift: Float) -> Tensor {
        unpacking(count: count, dtype: .float32, scale: scale, shift: shift)
    }

    private func unpacking(count: Int?, dtype: DType, scale: Float, shift: Float) -> Tensor {
        check(self.dtype == .int32 && rank >= 1, "unpackingBytes: expects int32 words with at least one axis, got \(self.dtype) \(shape)")
        let words = shape[rank - 1], length = count ?? 4 * words
        check(length <= 4 * words && length > 4 * words - 4 || (words == 0 && length == 0),
              "unpackingBytes: rows of \(words) words hold \(Swift.max(0, 4 * words - 3))...\(4 * words) bytes, not \(length) (shape \(shape))")
        let widened = Dispatch.run(.unpackBytes(dtype, scale: scale, shift: shift), [self])
        guard length < 4 * words else { return widened }
        let leading = [TensorIndex](repeating: .range(start: nil, end: nil, step: 1), count: rank - 1)
        return widened.slice(leading + [.range(start: 0, end: length, step: 1)]).contiguous()
    }
}
