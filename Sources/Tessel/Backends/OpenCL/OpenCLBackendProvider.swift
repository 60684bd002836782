// Placeholder until the OpenCL backend lands: finds no devices.
enum OpenCLBackendProvider: BackendProvider {
    static let name = "opencl"
    static var deviceCount: Int { 0 }
    static var unavailableReason: String? { "OpenCL backend not built yet" }
    static func isAccelerator(index: Int) -> Bool { false }
    static func makeBackend(index: Int) throws(TesselError) -> any Backend { throw .deviceNotFound("opencl:\(index)") }
}
