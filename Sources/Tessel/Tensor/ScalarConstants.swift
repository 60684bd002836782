import Synchronization

/// 0-d constants for the Swift scalars that appear in expressions (`x * 2`, `x - 1`), cached
/// per device, dtype and value: a training step uses the same few every iteration, and each
/// fresh one cost an allocation and, on OpenCL, a fill kernel.
///
/// A cached constant is shared, so it must never be written: the tensor layer hands it only to
/// ops as an input, never to a caller.
enum ScalarConstants {
    private struct Key: Hashable {
        let device: Device
        let dtype: DType
        let bits: UInt32
    }

    /// Distinct constants kept; past it the cache starts over (a loop over many values, such
    /// as a learning-rate schedule, should not grow memory).
    private static let capacity = 256
    private static let cache = Mutex<[Key: Tensor]>([:])

    static func tensor(bits: UInt32, dtype: DType, device: Device) -> Tensor {
        let key = Key(device: device, dtype: dtype, bits: bits)
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let made = Tensor.filled([], dtype: dtype, bits: bits, device: device)
        cache.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = made
        }
        return made
    }
}
