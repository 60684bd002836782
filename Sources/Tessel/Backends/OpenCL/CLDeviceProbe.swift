import Foundation
import COpenCL

/// What Tessel needs to know about one OpenCL device, read once at discovery.
struct CLDeviceProbe: @unchecked Sendable {
    // Unchecked: `id` is an OpaquePointer. Device ids of root devices are not reference counted
    // and stay valid for the life of the process, and every query on them is thread-safe.
    let id: cl_device_id
    let platformName: String
    let name: String
    let vendor: String
    let driverVersion: String
    /// `CL_DEVICE_VERSION`, e.g. "OpenCL 1.2 pocl 5.0".
    let openCLVersion: String
    let computeUnits: Int
    let globalMemoryBytes: Int
    let maxAllocationBytes: Int
    let maxWorkGroupSize: Int
    let localMemoryBytes: Int
    let extensions: [String]
    let hasFP64: Bool
    /// GPUs and accelerators; CPU devices (pocl) are not, so the default device skips them.
    let isAccelerator: Bool
    let typeName: String
    /// `CL_DEVICE_MAX_CLOCK_FREQUENCY`, in MHz.
    let clockMHz: Int
    /// `CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT`: SIMD lanes of a CPU device.
    let nativeFloatWidth: Int
    /// NVIDIA's compute capability (cl_nv_device_attribute_query), nil on other drivers.
    let computeCapability: (major: Int, minor: Int)?
    /// AMD's SIMD units per compute unit and lanes per SIMD (cl_amd_device_attribute_query).
    let amdSimdLayout: (units: Int, width: Int)?

    init(id: cl_device_id, platformName: String) {
        self.id = id
        self.platformName = platformName
        name = clDeviceString(id, CL_DEVICE_NAME)
        vendor = clDeviceString(id, CL_DEVICE_VENDOR)
        driverVersion = clDeviceString(id, CL_DRIVER_VERSION)
        openCLVersion = clDeviceString(id, CL_DEVICE_VERSION)
        computeUnits = Int(clDeviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS, as: cl_uint.self))
        globalMemoryBytes = Int(clamping: clDeviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE, as: cl_ulong.self))
        maxAllocationBytes = Int(clamping: clDeviceValue(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, as: cl_ulong.self))
        maxWorkGroupSize = clDeviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, as: Int.self)
        localMemoryBytes = Int(clamping: clDeviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE, as: cl_ulong.self))
        extensions = clDeviceString(id, CL_DEVICE_EXTENSIONS).split(separator: " ").map(String.init)
        hasFP64 = clDeviceValue(id, CL_DEVICE_DOUBLE_FP_CONFIG, as: cl_ulong.self) != 0
            || extensions.contains("cl_khr_fp64")
        let type = clDeviceValue(id, CL_DEVICE_TYPE, as: cl_device_type.self)
        if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 {
            typeName = "GPU"
        } else if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 {
            typeName = "accelerator"
        } else if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 {
            typeName = "CPU"
        } else {
            typeName = "other"
        }
        isAccelerator = typeName == "GPU" || typeName == "accelerator"
        clockMHz = Int(clDeviceValue(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, as: cl_uint.self))
        nativeFloatWidth = Int(clDeviceValue(id, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, as: cl_uint.self))
        // Vendor queries (cl_ext.h values; COpenCL imports only the core headers).
        computeCapability = extensions.contains("cl_nv_device_attribute_query")
            ? (Int(clDeviceValue(id, 0x4000, as: cl_uint.self)), Int(clDeviceValue(id, 0x4001, as: cl_uint.self))) : nil
        amdSimdLayout = extensions.contains("cl_amd_device_attribute_query")
            ? (Int(clDeviceValue(id, 0x4040, as: cl_uint.self)), Int(clDeviceValue(id, 0x4041, as: cl_uint.self))) : nil
    }

    /// The float32 peak from the hardware description: compute units x FP32 lanes per unit x
    /// 2 (an FMA is two FLOPs) x clock. Lanes per unit come from NVIDIA's compute capability,
    /// AMD's SIMD layout, or, on CPU devices, the native vector width times two FMA units.
    var peakFlops: (flops: Double, derivation: String)? {
        // A CPU driver runs on this machine's cores: their boosted clock is measured (drivers
        // report the listed one), and its compute units are logical CPUs, SMT siblings included.
        if typeName == "CPU" && nativeFloatWidth > 0 && computeUnits > 0 {
            return DeviceInfo.cpuPeak(cores: Swift.min(computeUnits, HostCPU.physicalCoreCount), lanes: nativeFloatWidth,
                                      clock: HostCPU.clock)
        }
        return Self.peakFlops(computeUnits: computeUnits, clockMHz: clockMHz, computeCapability: computeCapability,
                              amdSimdLayout: amdSimdLayout)
    }

    /// A GPU's float32 peak from what its driver reports; nil when the lanes per compute unit
    /// are not known (no guess).
    static func peakFlops(computeUnits: Int, clockMHz: Int, computeCapability: (major: Int, minor: Int)?,
                          amdSimdLayout: (units: Int, width: Int)?) -> (flops: Double, derivation: String)? {
        let ghz = Double(clockMHz) / 1000
        guard ghz > 0, computeUnits > 0 else { return nil }
        let lanes: Int, unit: String, note: String
        if let capability = computeCapability, let perSM = nvidiaLanesPerSM(capability) {
            (lanes, unit, note) = (perSM, "SMs", " (compute capability \(capability.major).\(capability.minor))")
        } else if let simd = amdSimdLayout, simd.units > 0, simd.width > 0 {
            (lanes, unit, note) = (simd.units * simd.width, "CUs", "")
        } else {
            return nil
        }
        let flops = Double(computeUnits * lanes * 2) * ghz * 1e9
        return (flops, String(format: "%d %@ x %d lanes x 2 x %.2f GHz%@", computeUnits, unit, lanes, ghz, note))
    }

    /// FP32 cores per streaming multiprocessor, by compute capability (NVIDIA's CUDA guide).
    static func nvidiaLanesPerSM(_ capability: (major: Int, minor: Int)) -> Int? {
        switch (capability.major, capability.minor) {
        case (3, _): return 192
        case (5, _): return 128
        case (6, 0): return 64
        case (6, _): return 128
        case (7, _): return 64
        case (8, 0): return 64
        case (8, _), (9, _), (10, _), (12, _): return 128
        default: return nil
        }
    }

    /// The `DeviceInfo` that `tessel devices` prints.
    func deviceInfo(extra: [(String, String)]) -> DeviceInfo {
        let listed = extensions.count <= 4 ? extensions.joined(separator: " ") : "\(extensions.count)"
        var details: [(String, String)] = [
            ("type", typeName),
            ("platform", platformName),
            ("OpenCL", openCLVersion),
            ("driver", driverVersion),
            ("local memory", formatBytes(localMemoryBytes)),
            ("max allocation", formatBytes(maxAllocationBytes)),
            ("fp64", hasFP64 ? "yes" : "no"),
            ("extensions", listed),
        ]
        details += extra
        return DeviceInfo(backend: OpenCLBackendProvider.name, name: name, vendor: vendor,
                          computeUnits: computeUnits, memoryBytes: globalMemoryBytes,
                          maxWorkGroupSize: maxWorkGroupSize, details: details, peakFlops: peakFlops)
    }
}

/// "64 KiB", "15.6 GiB": byte counts as people read them.
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 || value == value.rounded() ? "\(Int(value)) \(units[unit])"
        : "\((value * 10).rounded() / 10) \(units[unit])"
}

/// A string property of a device ("" if the driver does not answer).
func clDeviceString(_ device: cl_device_id, _ parameter: Int32) -> String {
    clInfoString { clGetDeviceInfo(device, cl_device_info(parameter), $0, $1, $2) }
}

/// A fixed-size property of a device (zero if the driver does not answer).
func clDeviceValue<T: BitwiseCopyable>(_ device: cl_device_id, _ parameter: Int32, as _: T.Type) -> T {
    withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) { raw in
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        _ = clGetDeviceInfo(device, cl_device_info(parameter), MemoryLayout<T>.size, raw.baseAddress, nil)
        return raw.load(as: T.self)
    }
}

/// Runs the usual two-call OpenCL query for a string (size first, then the bytes).
func clInfoString(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
    var size = 0
    guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    guard bytes.withUnsafeMutableBytes({ query(size, $0.baseAddress, nil) }) == CL_SUCCESS else { return "" }
    return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
}
