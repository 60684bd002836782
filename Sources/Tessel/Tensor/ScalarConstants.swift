import Synchronization

/// 0-d constants for the Swift scalars that appear in expressions (`x * 2`, `x - 1`), cached
/// per device, dtype and value: a training step uses the same few every iteration, and each
/// fresh one cost an allocation and, on OpenCL, a fill kernel.
///
/// A cached constant is shared, so its storage is frozen: an observer that is handed one as an
/// op's input and tries to write into it stops with a message instead of changing every later
/// `x * 2`.
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
        // A constant made while the device was full carries the failure: never keep it.
        guard made.storage.failure == nil else { return made }
        made.storage.freeze()
        cache.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = made
        }
        return made
    }
}
