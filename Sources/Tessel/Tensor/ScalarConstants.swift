import Synchronization

/// 0-d constants for the Swift scalars that appear in expressions (`x * 2`, `x - 1`), cached
/// per device, dtype and value: a training step uses the same few every iteration, and each
/// fresh one cost an allocation and, on OpenCL, a fill kernel.
///
/// A value is cached from its second request. A cached constant is shared, so its storage is frozen: an observer that is handed one as an
/// op's input and tries to write into it stops with a message instead of changing every later
/// `x * 2`.
enum ScalarConstants {
    private struct Key: Hashable {
        let device: Device
        let dtype: DType
        let bits: UInt32
    }

    /// Distinct constants kept; past it the cache starts over.
    private static let capacity = 256

    private struct State {
        var cache: [Key: Tensor] = [:]
        /// Values asked for once: a value is cached from its second request, so values that
        /// change every step (Adam's bias corrections, a schedule's rate) are made fresh from
        /// the pool and never pile up in the cache.
        var seen: Set<Key> = []
    }
    private static let state = Mutex(State())

    static func tensor(bits: UInt32, dtype: DType, device: Device) -> Tensor {
        let key = Key(device: device, dtype: dtype, bits: bits)
        let (cached, repeated) = state.withLock { state -> (Tensor?, Bool) in
            if let cached = state.cache[key] { return (cached, true) }
            if state.seen.count >= 4 * capacity { state.seen.removeAll(keepingCapacity: true) }
            return (nil, !state.seen.insert(key).inserted)
        }
        if let cached { return cached }
        let made = Tensor.filled([], dtype: dtype, bits: bits, device: device)
        // A constant made while the device was full carries the failure: never keep it.
        guard repeated, made.storage.failure == nil else { return made }
        made.storage.freeze()
        state.withLock { state in
            if state.cache.count >= capacity { state.cache.removeAll(keepingCapacity: true) }
            state.cache[key] = made
        }
        return made
    }
}
