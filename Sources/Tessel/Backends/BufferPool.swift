import Foundation
import Synchronization

/// Byte counts of one device's buffer pool.
public struct MemoryStats: Sendable, Equatable {
    /// Bytes held by live buffers (rounded up to their size class).
    public var activeBytes: Int
    /// Bytes of freed buffers kept for reuse.
    public var cachedBytes: Int
    /// The largest `activeBytes` seen since the backend was created.
    public var peakBytes: Int
    /// The most `cachedBytes` may grow to before the least recently freed buffers are released.
    public var cacheLimitBytes: Int
    /// How many blocks were obtained from the driver or the OS (a steady state adds none).
    public var deviceAllocations: Int
    /// How many allocations were served from the cache.
    public var reuses: Int
}

/// A bounded caching allocator, shared by the backends.
///
/// Getting memory from a driver or the OS costs a call and page-table work (a fresh 64 MB host
/// block costs ~16k page faults on first touch), and a training step allocates the same sizes
/// every iteration. Freed blocks therefore go to a pool keyed by size class and are handed out
/// again; the pool is bounded by `cacheLimitBytes`, beyond which the blocks freed longest ago are
/// dropped, outside the pool's lock: through `release` (a block that is a plain value), or by
/// its own `deinit` (a block that is an object).
final class BufferPool<Block: Sendable>: Sendable {
    private struct State {
        /// Freed blocks by size class (at `BufferPool.classIndex`), oldest first; each with the
        /// tick of its release. A flat array, not a dictionary: a dictionary's in-place
        /// mutation runs through accessor coroutines that allocate their frames, three
        /// allocations per small op.
        var free = [[(block: Block, tick: Int)]](repeating: [], count: BufferPool.classCount)
        var tick = 0
        var stats: MemoryStats
        /// The most bytes live blocks may hold (nil: as much as the device gives).
        var activeLimit: Int?
    }

    private let state: Mutex<State>
    private let create: @Sendable (_ bytes: Int) -> Block?
    private let drain: @Sendable () -> Void
    private let release: @Sendable (Block) -> Void
    private let deviceName: String

    /// - Parameters:
    ///   - create: makes a new block of exactly `bytes`, or nil when the device is out of memory.
    ///   - drain: waits until the device has finished with everything queued, so that released
    ///     blocks are really free (OpenCL frees a buffer only after the commands using it ran).
    ///   - release: frees an evicted block's memory (nothing for a block freed by its deinit).
    init(cacheLimitBytes: Int, deviceName: String, drain: @escaping @Sendable () -> Void = {},
         release: @escaping @Sendable (Block) -> Void = { _ in }, create: @escaping @Sendable (_ bytes: Int) -> Block?) {
        self.create = create
        self.drain = drain
        self.release = release
        self.deviceName = deviceName
        state = Mutex(State(stats: MemoryStats(activeBytes: 0, cachedBytes: 0, peakBytes: 0,
                                               cacheLimitBytes: cacheLimitBytes, deviceAllocations: 0, reuses: 0)))
    }

    /// Frees the cached blocks (the live ones are freed by their buffers, which hold the pool).
    deinit { trimCache(to: 0) }

    var stats: MemoryStats { state.withLock { $0.stats } }

    /// Sizes are rounded up to a power of two or a quarter step between two powers (at most 25%
    /// waste), so blocks of nearby sizes share a class; 256 bytes is the smallest class.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > 256 else { return 256 }
        let power = 1 << (Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount) // largest power of two < bytes
        let step = power / 4
        return (bytes + step - 1) / step * step
    }

    /// Size classes there are: 256 bytes, then four per power of two up to 2^63.
    static var classCount: Int { 1 + 4 * (Int.bitWidth - 9) }

    /// The position of size class `bytes` (a `sizeClass` result) among all classes.
    static func classIndex(_ bytes: Int) -> Int {
        guard bytes > 256 else { return 0 }
        let exponent = Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount // bytes lies in (2^exponent, 2^(exponent+1)]
        let quarter = (bytes - (1 << exponent)) / (1 << (exponent - 2))     // 1...4
        return (exponent - 8) * 4 + quarter
    }

    /// The size class at `index` (the inverse of `classIndex`).
    static func classSize(_ index: Int) -> Int {
        guard index > 0 else { return 256 }
        let exponent = (index - 1) / 4 + 8, quarter = (index - 1) % 4 + 1
        return (1 << exponent) + quarter * (1 << (exponent - 2))
    }

    /// Caps the bytes live blocks may hold (nil lifts the cap): an allocation past it fails as
    /// if the device were full. `TESSEL_CPU_MEMORY_LIMIT` sets it for the CPU backend.
    func setActiveLimit(_ bytes: Int?) { state.withLock { $0.activeLimit = bytes } }

    /// A block of at least `bytes`, and its size class; from the cache when one of its class is
    /// free; nil when the device (or the cap) has no room even after the cache was emptied.
    func tryTake(bytes requested: Int) -> (block: Block, bytes: Int)? {
        let bytes = BufferPool.sizeClass(requested)
        if let reused = state.withLock({ takeCached(&$0, bytes) }) { return (reused, bytes) }
        // The bytes are reserved under the lock before the block is made, so concurrent callers
        // cannot all pass the cap, and given back if the device refuses.
        func attempt() -> Block? {
            let reserved = state.withLock { state -> Bool in
                if let limit = state.activeLimit, state.stats.activeBytes + bytes > limit { return false }
                state.stats.activeBytes += bytes
                return true
            }
            guard reserved else { return nil }
            guard let block = create(bytes) else {
                state.withLock { $0.stats.activeBytes -= bytes }
                return nil
            }
            return block
        }
        var block = attempt()
        if block == nil {
            // The device may be full of cached blocks: give them back and try once more.
            // Drained first: nothing queued (or held, on OpenCL) still uses a block it releases.
            drain()
            trimCache(to: 0)
            block = attempt()
        }
        guard let block else { return nil }
        state.withLock { state in
            state.stats.deviceAllocations += 1
            state.stats.peakBytes = Swift.max(state.stats.peakBytes, state.stats.activeBytes)
        }
        return (block, bytes)
    }

    /// `tryTake`, stopping with a message when the device is full: for a backend's own
    /// temporaries, which have no tensor to report the failure through.
    func take(bytes requested: Int) -> (block: Block, bytes: Int) {
        guard let taken = tryTake(bytes: requested) else {
            checkFailure(TesselError.outOfMemory(device: deviceName, bytes: BufferPool.sizeClass(requested)).description)
        }
        return taken
    }

    private func takeCached(_ state: inout State, _ bytes: Int) -> Block? {
        guard state.activeLimit.map({ state.stats.activeBytes + bytes <= $0 }) ?? true else { return nil }
        // The most recently freed block of the class: likeliest to be warm in caches.
        guard let entry = state.free[BufferPool.classIndex(bytes)].popLast() else { return nil }
        state.stats.cachedBytes -= bytes
        state.stats.activeBytes += bytes
        state.stats.peakBytes = Swift.max(state.stats.peakBytes, state.stats.activeBytes)
        state.stats.reuses += 1
        return entry.block
    }

    /// Takes back a block whose buffer was released (from any thread: a buffer's `deinit`).
    func recycle(_ block: Block, bytes: Int) {
        let evicted: [Block] = state.withLock { state in
            state.tick += 1
            state.stats.activeBytes -= bytes
            state.free[BufferPool.classIndex(bytes)].append((block, state.tick))
            state.stats.cachedBytes += bytes
            return evict(&state, downTo: state.stats.cacheLimitBytes)
        }
        // Freed here, outside the lock.
        for block in evicted { release(block) }
    }

    /// Drops cached blocks, least recently freed first, until at most `limit` bytes stay cached.
    func trimCache(to limit: Int) {
        let evicted = state.withLock { evict(&$0, downTo: limit) }
        for block in evicted { release(block) }
    }

    private func evict(_ state: inout State, downTo limit: Int) -> [Block] {
        var evicted: [Block] = []
        while state.stats.cachedBytes > limit {
            // The oldest entry overall is the oldest first entry among the classes.
            var oldest = -1
            for index in state.free.indices where !state.free[index].isEmpty
                && (oldest < 0 || state.free[index][0].tick < state.free[oldest][0].tick) {
                oldest = index
            }
            guard oldest >= 0 else { break }
            evicted.append(state.free[oldest].removeFirst().block)
            state.stats.cachedBytes -= BufferPool.classSize(oldest)
        }
        return evicted
    }

    /// `environmentKey`'s byte count when set, else `fallback`.
    static func cacheLimit(environmentKey: String, fallback: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment[environmentKey], let bytes = Int(text), bytes >= 0 { return bytes }
        return fallback
    }
}
