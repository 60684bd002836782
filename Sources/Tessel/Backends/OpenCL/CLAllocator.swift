import COpenCL

/// The OpenCL backend's buffers: a `BufferPool` of `cl_mem` objects.
///
/// Handing a buffer out again while a kernel that used it is still queued is safe: the queue is
/// in order, so the new owner's commands run after the old ones. Releasing one is safe too:
/// OpenCL deletes a memory object only once the queued commands that use it have finished.
final class CLAllocator: Sendable {
    let context: CLHandle
    let pool: BufferPool<CLHandle>

    /// - Parameters:
    ///   - drain: waits for the device's queue (see `BufferPool`).
    ///   - beforeRelease: runs before the pool lets evicted buffers go: it must let any launches
    ///     held behind a user event run (see `CLLauncher`), since OpenCL leaves releasing an
    ///     object undefined while queued commands wait on an incomplete user event.
    init(context: CLHandle, cacheLimitBytes: Int, drain: @escaping @Sendable () -> Void = {},
         beforeRelease: @escaping @Sendable () -> Void = {}) {
        self.context = context
        pool = BufferPool(cacheLimitBytes: cacheLimitBytes, deviceName: "OpenCL device", drain: drain,
                          release: { _ in beforeRelease() }) { bytes in
            var status: cl_int = CL_SUCCESS
            guard let memory = clCreateBuffer(context.raw, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status),
                  status == CL_SUCCESS else { return nil }
            return CLHandle(memory, release: clReleaseMemObject)
        }
    }

    var stats: MemoryStats { pool.stats }

    /// The pool's byte cap: `TESSEL_OPENCL_CACHE_BYTES` if set, else a quarter of device memory.
    static func defaultCacheLimit(deviceMemory: Int) -> Int {
        BufferPool<CLHandle>.cacheLimit(environmentKey: "TESSEL_OPENCL_CACHE_BYTES", fallback: deviceMemory / 4)
    }

    /// A buffer of at least `count` 4-byte elements.
    func allocate(count: Int) -> CLBuffer {
        check(count >= 0 && count < Int(Int32.max), "OpenCL buffers hold fewer than 2^31 elements, asked \(count)")
        let (memory, bytes) = pool.take(bytes: count * 4)
        return CLBuffer(memory: memory, count: count, bytes: bytes, allocator: self)
    }

    /// Nil when the device has no room (see `BufferPool.tryTake`).
    func tryAllocate(count: Int) -> CLBuffer? {
        check(count >= 0 && count < Int(Int32.max), "OpenCL buffers hold fewer than 2^31 elements, asked \(count)")
        guard let (memory, bytes) = pool.tryTake(bytes: count * 4) else { return nil }
        return CLBuffer(memory: memory, count: count, bytes: bytes, allocator: self)
    }

    func trimCache(to limit: Int) { pool.trimCache(to: limit) }
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

    deinit { allocator.pool.recycle(memory, bytes: bytes) }
}
