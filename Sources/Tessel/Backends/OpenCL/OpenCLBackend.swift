import COpenCL
import Foundation
import Synchronization

/// The backend of one OpenCL device: one context, one in-order queue (with profiling enabled),
/// a caching allocator and the kernels of `Kernels/*.cl`, all built when the backend is created.
///
/// Ops enqueue their kernel and return; only `read` waits for the device. Because the queue is
/// in order, each kernel sees the results of every kernel enqueued before it.
///
/// Get one with `try Device.opencl(index).backend() as? OpenCLBackend` to reach the extras
/// below (memory statistics, profiling).
public final class OpenCLBackend: Backend {
    /// `opencl:N`.
    public let device: Device
    /// Name, vendor and limits of the device, with details such as its type, driver and GEMM
    /// tiling. Described on first read: a CPU driver's peak needs the measured host clock.
    public var info: DeviceInfo {
        infoCache.withLock { cached in
            if let cached { return cached }
            let described = probe.deviceInfo(extra: [("GEMM", gemmTile.summary)])
            cached = described
            return described
        }
    }
    private let infoCache = Mutex<DeviceInfo?>(nil)
    let probe: CLDeviceProbe
    let context: CLHandle
    let launcher: CLLauncher
    let allocator: CLAllocator
    /// Out-of-range index reports of the gather and scatter kernels.
    let indexFaults: CLIndexFaults
    let kernelCache: KernelCache
    let gemmTile: CLGemmTile
    /// Most batch items one GEMM launch takes (the NDRange's third axis is bounded on GPUs).
    let gemmBatchLimit: Int
    /// Every kernel of every family, by function name; read-only after `init`.
    let kernels: [String: CLKernel]

    /// The family whose source is prepended to every other family (`Kernels/common.cl`).
    static let preludeFamily = "common"

    /// `gemmVariant` forces "local" or "blocked" (tests run the GPU kernel on pocl this way);
    /// by default `TESSEL_OPENCL_GEMM`, else the device type decides.
    init(probe: CLDeviceProbe, index: Int, cacheDirectory: URL? = KernelCache.defaultDirectory,
         gemmVariant: String? = ProcessInfo.processInfo.environment["TESSEL_OPENCL_GEMM"],
         gemmBatchLimit: Int = 65535) throws(TesselError) {
        self.gemmBatchLimit = gemmBatchLimit
        self.probe = probe
        device = Device.opencl(index)
        var status: cl_int = CL_SUCCESS
        var id: cl_device_id? = probe.id
        guard let rawContext = clCreateContext(nil, 1, &id, nil, nil, &status), status == CL_SUCCESS else {
            throw .openCL(call: "clCreateContext", code: status)
        }
        context = CLHandle(rawContext, release: clReleaseContext)
        // Profiling costs nothing until an event is asked for, and lets benchmarks time kernels.
        guard let rawQueue = clCreateCommandQueue(rawContext, probe.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE),
                                                  &status), status == CL_SUCCESS else {
            throw .openCL(call: "clCreateCommandQueue", code: status)
        }
        launcher = CLLauncher(queue: CLHandle(rawQueue, release: clReleaseCommandQueue),
                              minimumGroupSize: probe.isAccelerator ? 32 : 1,
                              holdingCommandsIn: probe.isAccelerator ? nil : context)
        let queueLauncher = launcher
        allocator = CLAllocator(context: context,
                                cacheLimitBytes: CLAllocator.defaultCacheLimit(deviceMemory: probe.globalMemoryBytes),
                                drain: { queueLauncher.finish() },
                                beforeRelease: { queueLauncher.releaseHeldCommands() })
        indexFaults = CLIndexFaults(allocator: allocator)
        kernelCache = KernelCache(context: context, device: probe.id, deviceName: probe.name,
                                  driverVersion: probe.driverVersion, directory: cacheDirectory)

        let sources = EmbeddedKernels.sources
        let prelude = sources[OpenCLBackend.preludeFamily] ?? ""
        var kernels: [String: CLKernel] = [:]
        for family in sources.keys.sorted() where family != OpenCLBackend.preludeFamily && family != "gemm" {
            for kernel in try OpenCLBackend.build(family, prelude + "\n" + sources[family]!, options: "", kernelCache) {
                kernels[kernel.name] = kernel
            }
        }
        // GEMM: the best tiling the device accepts (its variant follows the device type); a build
        // whose kernel allows fewer work-items than its tile needs (register pressure) falls back
        // to the next one.
        var chosen: CLGemmTile?
        let gemmSource = prelude + "\n" + (sources["gemm"] ?? "")
        var buildFailure: TesselError?
        for tile in CLGemmTile.candidates(maxWorkGroupSize: probe.maxWorkGroupSize, localMemoryBytes: probe.localMemoryBytes,
                                          accelerator: probe.isAccelerator, override: gemmVariant) {
            // A tiling the compiler rejects (resources) falls through to the next one.
            let built: [CLKernel]
            do {
                built = try OpenCLBackend.build("gemm", gemmSource, options: tile.buildOptions, kernelCache)
            } catch {
                buildFailure = error
                continue
            }
            if let gemm = built.first(where: { $0.name == "gemm_f32" }), gemm.maxWorkGroupSize >= tile.threads {
                // The CPU variant also brings its packing kernel.
                for kernel in built { kernels[kernel.name] = kernel }
                chosen = tile
                break
            }
        }
        guard let chosen else {
            if let buildFailure { throw buildFailure }
            throw .deviceInitFailed(device: "opencl:\(index) (\(probe.name))",
                                    reason: "no GEMM tiling fits its work-group or local memory limits")
        }
        gemmTile = chosen
        self.kernels = kernels
        [Int32](repeating: 0, count: 4).withUnsafeBytes { write($0, to: indexFaults.buffer) }
    }

    /// Builds (or loads from the disk cache) one family and creates all its kernels.
    private static func build(_ family: String, _ source: String, options: String,
                              _ cache: KernelCache) throws(TesselError) -> [CLKernel] {
        let program = try cache.program(family: family, source: source, options: options)
        var count: cl_uint = 0
        try clCheck(clCreateKernelsInProgram(program.raw, 0, nil, &count), "clCreateKernelsInProgram")
        var raw = [cl_kernel?](repeating: nil, count: Int(count))
        try clCheck(clCreateKernelsInProgram(program.raw, count, &raw, nil), "clCreateKernelsInProgram")
        // A kernel holds a reference to its program, so the program may go when this returns.
        let handles = raw.compactMap { $0 }.map { CLHandle($0, release: clReleaseKernel) }
        var kernels: [CLKernel] = []
        for handle in handles {
            let name = clInfoString { clGetKernelInfo(handle.raw, cl_kernel_info(CL_KERNEL_FUNCTION_NAME), $0, $1, $2) }
            // Every launch sizes its work-groups from this: a failed query must not read as 1.
            var groupSize = 0
            try clCheck(clGetKernelWorkGroupInfo(handle.raw, cache.device, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                                 MemoryLayout<Int>.size, &groupSize, nil), "clGetKernelWorkGroupInfo(\(name))")
            kernels.append(CLKernel(handle: handle, name: name, maxWorkGroupSize: Swift.max(groupSize, 1)))
        }
        return kernels
    }

    // MARK: Public extras

    /// Active, cached and peak bytes of the buffer pool.
    public var memoryStats: MemoryStats { allocator.stats }

    // Held launches run before the backend's kernels, programs and queue are released (OpenCL
    // leaves releasing them undefined while commands wait on an incomplete user event).
    deinit { launcher.releaseHeldCommands() }

    /// Releases every cached (freed) buffer back to the driver.
    public func emptyMemoryCache() { allocator.trimCache(to: 0) }

    /// Waits until every enqueued kernel and copy has finished.
    public func synchronize() {
        launcher.finish()
        stopOnIndexFault()
    }

    /// Stops with the CPU backend's message if a gather or scatter kernel met a bad index.
    private func stopOnIndexFault() {
        indexFaults.stopOnReport({ buffer, bytes in readNow(buffer, into: bytes) },
                                 clear: { buffer in [Int32](repeating: 0, count: 4).withUnsafeBytes { write($0, to: buffer) } })
    }

    /// Starts timing each kernel launched from now on (with OpenCL event profiling).
    public func startProfiling() { launcher.startProfiling() }

    /// Stops timing; waits for the timed kernels and returns their device times in launch order.
    public func stopProfiling() -> [CLKernelTiming] { launcher.stopProfiling() }

    /// How many kernel families this backend loaded from the disk cache instead of compiling.
    public var kernelFamiliesLoadedFromDisk: Int { kernelCache.loadsFromDisk }

    // MARK: Memory

    public func allocate(count: Int) -> any BackendBuffer { allocator.allocate(count: count) }
    public func tryAllocate(count: Int) -> (any BackendBuffer)? { allocator.tryAllocate(count: count) }

    public func write(_ bytes: UnsafeRawBufferPointer, to buffer: any BackendBuffer) {
        let target = clBuffer(buffer)
        check(bytes.count <= target.count * 4, "write: \(bytes.count) bytes into a buffer of \(target.count * 4)")
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        // Blocking: the caller's memory is only borrowed for this call.
        launcher.write(source, count: bytes.count, to: target.memory)
    }

    public func read(_ buffer: any BackendBuffer, into bytes: UnsafeMutableRawBufferPointer) {
        readNow(buffer, into: bytes)
        stopOnIndexFault()
    }

    private func readNow(_ buffer: any BackendBuffer, into bytes: UnsafeMutableRawBufferPointer) {
        let source = clBuffer(buffer)
        check(bytes.count <= source.count * 4, "read: \(bytes.count) bytes from a buffer of \(source.count * 4)")
        guard let target = bytes.baseAddress, !bytes.isEmpty else { return }
        // Blocking, and after everything enqueued before it (in-order queue): the one sync point.
        launcher.read(source.memory, count: bytes.count, into: target)
    }

    public func fill(_ buffer: any BackendBuffer, offset: Int, count: Int, bits: UInt32) {
        let target = clBuffer(buffer)
        check(offset >= 0 && offset + count <= target.count, "fill: \(count) elements at \(offset) into a buffer of \(target.count)")
        launcher.launch(kernel("fill_u32"), count: count, [.int(count), .buffer(target), .int(offset), .uint(bits)])
    }

    // MARK: Helpers

    /// The kernel named `name` (built with the backend, so a miss is a bug in this file).
    func kernel(_ name: String) -> CLKernel {
        guard let kernel = kernels[name] else { checkFailure("OpenCL kernel \(name) does not exist") }
        return kernel
    }

    /// `buffer` as this backend's buffer type, or a stop naming the mistake.
    func clBuffer(_ buffer: any BackendBuffer) -> CLBuffer {
        guard let buffer = buffer as? CLBuffer, buffer.allocator === allocator else {
            checkFailure("\(device): given a buffer of another device")
        }
        return buffer
    }

    /// The buffer of `view`, after checking that every element of the layout lies inside it
    /// (a kernel reading outside would corrupt memory silently instead of stopping).
    func checked(_ buffer: any BackendBuffer, _ layout: Layout, _ op: String) -> CLBuffer {
        let target = clBuffer(buffer)
        guard layout.count > 0 else { return target }
        var low = layout.offset, high = layout.offset
        for (size, stride) in zip(layout.shape, layout.strides) {
            if stride > 0 { high += (size - 1) * stride } else { low += (size - 1) * stride }
        }
        check(low >= 0 && high < target.count,
                     "\(op): \(layout) reaches outside its buffer of \(target.count) elements")
        return target
    }
}
