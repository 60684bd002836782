import Foundation

/// The CPU backend: Swift SIMD kernels, spread over all cores for large work.
///
/// Its kernels run synchronously on the calling thread (and worker threads it waits for),
/// so `read` never has anything to wait for.
final class CPUBackend: Backend {
    let device = Device.cpu
    let pool: BufferPool<HostMemory>
    /// `pool` for its buffers, which hold it without counting (see `CPUBuffer`).
    private let buffersPool: Unmanaged<BufferPool<HostMemory>>

    init() {
        // A training step allocates the same sizes every iteration; reusing host blocks saves
        // the page faults of fresh memory. Cap: TESSEL_CPU_CACHE_BYTES, else 1/8 of RAM. Live
        // tensors may be capped too (TESSEL_CPU_MEMORY_LIMIT, bytes), as a device's memory is.
        let memory = Int(ProcessInfo.processInfo.physicalMemory)
        pool = BufferPool(cacheLimitBytes: BufferPool<HostMemory>.cacheLimit(environmentKey: "TESSEL_CPU_CACHE_BYTES",
                                                                              fallback: memory / 8),
                          deviceName: "cpu", release: { $0.free() }) { HostMemory(bytes: $0) }
        if let text = ProcessInfo.processInfo.environment["TESSEL_CPU_MEMORY_LIMIT"], let limit = Int(text), limit >= 0 {
            pool.setActiveLimit(limit)
        }
        buffersPool = CPUBuffer.keepForever(pool)
    }

    /// The cached blocks go with the backend; the pool object itself stays (see `CPUBuffer.pool`).
    deinit { pool.trimCache(to: 0) }

    /// Described on first read: the peak needs the clock, which is measured by keeping every
    /// core busy for a moment, a cost that creating the backend (every program does) must not pay.
    var info: DeviceInfo { CPUBackend.hostInfo }

    private static let hostInfo: DeviceInfo = {
        var details: [(String, String)] = [("SIMD width", "\(simdWidth) x float32")]
        if !simdTargetSet {
            details.append(("note", "built without a CPU target: SIMD runs as scalar code (use `make`)"))
        }
        // FMA units belong to physical cores: SMT siblings add threads, not peak.
        let peak = DeviceInfo.cpuPeak(cores: Swift.min(cpuCoreCount, HostCPU.physicalCoreCount), lanes: simdWidth,
                                      clock: HostCPU.clock)
        return DeviceInfo(backend: "cpu", name: HostCPU.modelName, vendor: HostCPU.vendor,
                          computeUnits: cpuCoreCount, memoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
                          maxWorkGroupSize: 1, details: details, peakFlops: peak)
    }()

    func allocate(count: Int) -> any BackendBuffer { CPUBuffer(count: count, pool: buffersPool) }
    func tryAllocate(count: Int) -> (any BackendBuffer)? { CPUBuffer(tryCount: count, pool: buffersPool) }

    var memoryStats: MemoryStats { pool.stats }
    func emptyMemoryCache() { pool.trimCache(to: 0) }

    /// Nothing to wait for: CPU kernels finish before they return.
    func synchronize() {}

    func write(_ bytes: UnsafeRawBufferPointer, to buffer: any BackendBuffer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        unsafeDowncast(buffer, to: CPUBuffer.self).pointer.copyMemory(from: source, byteCount: bytes.count)
    }

    func read(_ buffer: any BackendBuffer, into bytes: UnsafeMutableRawBufferPointer) {
        guard let target = bytes.baseAddress, !bytes.isEmpty else { return }
        target.copyMemory(from: unsafeDowncast(buffer, to: CPUBuffer.self).pointer, byteCount: bytes.count)
    }
}

/// The one CPU device.
enum CPUBackendProvider: BackendProvider {
    static let name = "cpu"
    static var deviceCount: Int { 1 }
    static var unavailableReason: String? { nil }
    static func isAccelerator(index: Int) -> Bool { false }
    static func makeBackend(index: Int) throws(TesselError) -> any Backend { CPUBackend() }
}
