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
/// dropped. `Block` releases its memory in its own `deinit`, outside the pool's lock.
final class BufferPool<Block: Sendable>: Sendable {
    private struct State {
        /// Freed blocks by size class, oldest first; each with the tick of its release.
        var free: [Int: [(block: Block, tick: Int)]] = [:]
        var tick = 0
        var stats: MemoryStats
        /// The most bytes live blocks may hold (nil: as much as the device gives).
        var activeLimit: Int?
    }

    private let state: Mutex<State>
    private let create: @Sendable (_ bytes: Int) -> Block?
    private let drain: @Sendable () -> Void
    private let deviceName: String

    /// - Parameters:
    ///   - create: makes a new block of exactly `bytes`, or nil when the device is out of memory.
    ///   - drain: waits until the device has finished with everything queued, so that released
    ///     blocks are really free (OpenCL frees a buffer only after the commands using it ran).
    init(cacheLimitBytes: Int, deviceName: String, drain: @escaping @Sendable () -> Void = {},
         create: @escaping @Sendable (_ bytes: Int) -> Block?) {
        self.create = create
        self.drain = drain
        self.deviceName = deviceName
        state = Mutex(State(stats: MemoryStats(activeBytes: 0, cachedBytes: 0, peakBytes: 0,
                                               cacheLimitBytes: cacheLimitBytes, deviceAllocations: 0, reuses: 0)))
    }

    var stats: MemoryStats { state.withLock { $0.stats } }

    /// Sizes are rounded up to a power of two or a quarter step between two powers (at most 25%
    /// waste), so blocks of nearby sizes share a class; 256 bytes is the smallest class.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > 256 else { return 256 }
        let power = 1 << (Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount) // largest power of two < bytes
        let step = power / 4
        return (bytes + step - 1) / step * step
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
            trimCache(to: 0)
            drain()
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
        guard let entry = state.free[bytes]?.popLast() else { return nil }
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
            state.free[bytes, default: []].append((block, state.tick))
            state.stats.cachedBytes += bytes
            return evict(&state, downTo: state.stats.cacheLimitBytes)
        }
        _ = evicted // released here, outside the lock, when the array goes
    }

    /// Drops cached blocks, least recently freed first, until at most `limit` bytes stay cached.
    func trimCache(to limit: Int) {
        let evicted = state.withLock { evict(&$0, downTo: limit) }
        _ = evicted
    }

    private func evict(_ state: inout State, downTo limit: Int) -> [Block] {
        var evicted: [Block] = []
        while state.stats.cachedBytes > limit {
            // The oldest entry overall is the oldest first entry among the classes.
            guard let (size, _) = state.free.compactMap({ key, list in list.first.map { (key, $0.tick) } })
                .min(by: { $0.1 < $1.1 }) else { break }
            evicted.append(state.free[size]!.removeFirst().block)
            if state.free[size]!.isEmpty { state.free[size] = nil }
            state.stats.cachedBytes -= size
        }
        return evicted
    }

    /// `environmentKey`'s byte count when set, else `fallback`.
    static func cacheLimit(environmentKey: String, fallback: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment[environmentKey], let bytes = Int(text), bytes >= 0 { return bytes }
        return fallback
    }
}
