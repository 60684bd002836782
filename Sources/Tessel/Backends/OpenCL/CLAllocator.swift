import COpenCL
import Foundation
import Synchronization

/// Byte counts of one OpenCL device's buffer pool.
public struct CLMemoryStats: Sendable, Equatable {
    /// Bytes held by live buffers (rounded up to their size class).
    public var activeBytes: Int
    /// Bytes of freed buffers kept for reuse.
    public var cachedBytes: Int
    /// The largest `activeBytes` seen since the backend was created.
    public var peakBytes: Int
    /// The most `cachedBytes` may grow to before the least recently freed buffers are released.
    public var cacheLimitBytes: Int
    /// How many device buffers were created with `clCreateBuffer` (a steady state adds none).
    public var deviceAllocations: Int
    /// How many allocations were served from the cache.
    public var reuses: Int
}

/// A caching allocator of device buffers.
///
/// Creating an OpenCL buffer costs a driver call and often a page-table update, and a training
/// step allocates the same sizes every iteration. Freed buffers therefore go to a pool keyed by
/// size class and are handed out again; the pool is bounded by `cacheLimitBytes`, beyond which
/// the buffers freed longest ago are released.
///
/// Handing a buffer out again while a kernel that used it is still queued is safe: the queue is
/// in order, so the new owner's commands run after the old ones. Releasing one is safe too:
/// OpenCL deletes a memory object only once the queued commands that use it have finished.
final class CLAllocator: Sendable {
    private struct Pool {
        /// Freed buffers by size class, oldest first; each with the tick of its release.
        var free: [Int: [(memory: CLHandle, tick: Int)]] = [:]
        var tick = 0
        var stats: CLMemoryStats
    }

    let context: CLHandle
    private let pool: Mutex<Pool>

    init(context: CLHandle, cacheLimitBytes: Int) {
        self.context = context
        pool = Mutex(Pool(stats: CLMemoryStats(activeBytes: 0, cachedBytes: 0, peakBytes: 0,
                                               cacheLimitBytes: cacheLimitBytes, deviceAllocations: 0, reuses: 0)))
    }

    var stats: CLMemoryStats { pool.withLock { $0.stats } }

    /// The pool's byte cap: `TESSEL_OPENCL_CACHE_BYTES` if set, else a quarter of device memory.
    static func defaultCacheLimit(deviceMemory: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment["TESSEL_OPENCL_CACHE_BYTES"], let bytes = Int(text), bytes >= 0 {
            return bytes
        }
        return deviceMemory / 4
    }

    /// Sizes are rounded up to a power of two or a quarter step between two powers (at most 25%
    /// waste), so buffers of nearby sizes share a class; 256 bytes is the smallest class.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > 256 else { return 256 }
        let power = 1 << (Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount) // largest power of two < bytes
        let step = power / 4
        return (bytes + step - 1) / step * step
    }

    /// A buffer of at least `count` 4-byte elements, from the cache when one of its class is free.
    func allocate(count: Int) -> CLBuffer {
        precondition(count >= 0 && count < Int(Int32.max), "OpenCL buffers hold fewer than 2^31 elements, asked \(count)")
        let bytes = CLAllocator.sizeClass(count * 4)
        if let reused = pool.withLock({ takeCached(&$0, bytes) }) {
            return CLBuffer(memory: reused, count: count, bytes: bytes, allocator: self)
        }
        var status: cl_int = CL_SUCCESS
        var memory = clCreateBuffer(context.raw, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        if memory == nil || status != CL_SUCCESS {
            // The device may be full of cached buffers: give them back and try once more.
            trimCache(to: 0)
            memory = clCreateBuffer(context.raw, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        }
        guard let memory, status == CL_SUCCESS else {
            fatalError("clCreateBuffer of \(formatBytes(bytes)) failed with OpenCL error \(status)")
        }
        pool.withLock { state in
            state.stats.deviceAllocations += 1
            state.stats.activeBytes += bytes
            state.stats.peakBytes = Swift.max(state.stats.peakBytes, state.stats.activeBytes)
        }
        return CLBuffer(memory: CLHandle(memory, release: clReleaseMemObject), count: count, bytes: bytes, allocator: self)
    }

    private func takeCached(_ state: inout Pool, _ bytes: Int) -> CLHandle? {
        // The most recently freed buffer of the class: likeliest to be warm in caches.
        guard let entry = state.free[bytes]?.popLast() else { return nil }
        state.stats.cachedBytes -= bytes
        state.stats.activeBytes += bytes
        state.stats.peakBytes = Swift.max(state.stats.peakBytes, state.stats.activeBytes)
        state.stats.reuses += 1
        return entry.memory
    }

    /// Takes back a buffer whose last reference went (from any thread: `CLBuffer.deinit`).
    func recycle(_ memory: CLHandle, bytes: Int) {
        let evicted: [CLHandle] = pool.withLock { state in
            state.tick += 1
            state.stats.activeBytes -= bytes
            state.free[bytes, default: []].append((memory, state.tick))
            state.stats.cachedBytes += bytes
            return evict(&state, downTo: state.stats.cacheLimitBytes)
        }
        _ = evicted // released here, outside the lock, when the array goes
    }

    /// Releases cached buffers, least recently freed first, until at most `limit` bytes stay cached.
    func trimCache(to limit: Int) {
        let evicted = pool.withLock { evict(&$0, downTo: limit) }
        _ = evicted
    }

    private func evict(_ state: inout Pool, downTo limit: Int) -> [CLHandle] {
        var evicted: [CLHandle] = []
        while state.stats.cachedBytes > limit {
            // The oldest entry overall is the oldest first entry among the classes.
            guard let (size, _) = state.free.compactMap({ key, list in list.first.map { (key, $0.tick) } })
                .min(by: { $0.1 < $1.1 }) else { break }
            evicted.append(state.free[size]!.removeFirst().memory)
            if state.free[size]!.isEmpty { state.free[size] = nil }
            state.stats.cachedBytes -= size
        }
        return evicted
    }
}

/// Device memory of the OpenCL backend; goes back to its allocator's pool when released.
final class CLBuffer: BackendBuffer, Sendable {
    let memory: CLHandle
    let count: Int
    /// The size class actually allocated (at least `count * 4`).
    let bytes: Int
    let allocator: CLAllocator

    init(memory: CLHandle, count: Int, bytes: Int, allocator: CLAllocator) {
        self.memory = memory
        self.count = count
        self.bytes = bytes
        self.allocator = allocator
    }

    deinit { allocator.recycle(memory, bytes: bytes) }
}
