import COpenCL

/// Finds the OpenCL devices of this machine and creates their backends.
///
/// Discovery runs once per process, on whichever thread first asks, through a `static let`
/// (Swift runs its initialiser exactly once, others wait): some drivers, pocl among them, fail
/// when several threads enumerate platforms at the same time.
enum OpenCLBackendProvider: BackendProvider {
    static let name = "opencl"

    static var deviceCount: Int { discovery.devices.count }
    static var unavailableReason: String? { discovery.unavailableReason }

    static func isAccelerator(index: Int) -> Bool {
        discovery.devices.indices.contains(index) && discovery.devices[index].isAccelerator
    }

    static func makeBackend(index: Int) throws(TesselError) -> any Backend {
        guard discovery.devices.indices.contains(index) else { throw .deviceNotFound("opencl:\(index)", found: BackendRegistry.allDevices.map(\.description)) }
        return try OpenCLBackend(probe: discovery.devices[index], index: index)
    }

    /// Every device of every platform, in platform order.
    static let discovery = CLDiscovery.run()
}

/// The result of the one-time device discovery.
struct CLDiscovery: Sendable {
    let devices: [CLDeviceProbe]
    /// Why `devices` is empty, for the one-time notice; nil when devices were found.
    let unavailableReason: String?

    static func run() -> CLDiscovery {
        var platformCount: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &platformCount)
        // -1001 is CL_PLATFORM_NOT_FOUND_KHR: the ICD loader is installed but no driver is.
        if status == -1001 || (status == CL_SUCCESS && platformCount == 0) {
            return CLDiscovery(devices: [], unavailableReason: "no OpenCL platform installed (no ICD driver found)")
        }
        guard status == CL_SUCCESS else {
            return CLDiscovery(devices: [], unavailableReason: "clGetPlatformIDs failed with OpenCL error \(status)")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        guard clGetPlatformIDs(platformCount, &platforms, nil) == CL_SUCCESS else {
            return CLDiscovery(devices: [], unavailableReason: "clGetPlatformIDs could not list the platforms")
        }
        var devices: [CLDeviceProbe] = []
        for case let platform? in platforms {
            let platformName = clInfoString { clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) }
            var count: cl_uint = 0
            // CL_DEVICE_NOT_FOUND just means an empty platform: skip it.
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count) == CL_SUCCESS,
                  count > 0 else { continue }
            var ids = [cl_device_id?](repeating: nil, count: Int(count))
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil) == CL_SUCCESS else {
                continue
            }
            devices += ids.compactMap { $0 }.map { CLDeviceProbe(id: $0, platformName: platformName) }
        }
        return CLDiscovery(devices: devices,
                           unavailableReason: devices.isEmpty ? "the OpenCL platforms list no devices" : nil)
    }
}
