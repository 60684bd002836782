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
                          maxWorkGroupSize: maxWorkGroupSize, details: details)
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
