import COpenCL
import Foundation

/// Builds OpenCL programs for one device, keeping their binaries on disk so that the next
/// process skips the compiler (seconds per family on some drivers).
///
/// A binary is keyed by a hash of the device name, driver version, build options and source
/// text, so any change to one of them builds afresh. A binary that fails to load (corrupt file,
/// driver update with the same version string) falls back to building from source; a disk
/// cache that cannot be written (read-only home) only costs the next process a rebuild.
final class KernelCache: @unchecked Sendable {
    // Unchecked: `loadsFromDisk` and `builds` are only written during backend creation, on the
    // creating thread, before the backend is shared; the handles are thread-safe (see CLHandle).
    let context: CLHandle
    let device: cl_device_id
    let deviceName: String
    let driverVersion: String
    /// Where binaries go; nil disables the disk cache.
    let directory: URL?
    /// Programs that came from a cached binary, for tests and `tessel devices`.
    private(set) var loadsFromDisk = 0
    /// Programs compiled from source.
    private(set) var builds = 0

    init(context: CLHandle, device: cl_device_id, deviceName: String, driverVersion: String,
         directory: URL? = KernelCache.defaultDirectory) {
        self.context = context
        self.device = device
        self.deviceName = deviceName
        self.driverVersion = driverVersion
        self.directory = directory
    }

    /// `$TESSEL_CACHE_DIR/kernels`, else `$XDG_CACHE_HOME/tessel/kernels`, else `~/.cache/tessel/kernels`.
    static var defaultDirectory: URL? {
        let environment = ProcessInfo.processInfo.environment
        if let root = environment["TESSEL_CACHE_DIR"], !root.isEmpty {
            return URL(fileURLWithPath: root).appendingPathComponent("kernels")
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("tessel/kernels")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tessel/kernels")
    }

    /// The built program of kernel family `family`, from the disk cache when possible.
    func program(family: String, source: String, options: String) throws(TesselError) -> CLHandle {
        let key = fnv1a64([deviceName, driverVersion, options, source].joined(separator: "\u{0}"))
        let file = directory?.appendingPathComponent("\(family)-\(String(key, radix: 16)).bin")
        if let file, let program = loadBinary(file, options: options) {
            loadsFromDisk += 1
            return program
        }
        let program = try buildFromSource(family: family, source: source, options: options)
        builds += 1
        if let file { saveBinary(of: program, to: file) }
        return program
    }

    private func buildFromSource(family: String, source: String, options: String) throws(TesselError) -> CLHandle {
        var status: cl_int = CL_SUCCESS
        let created: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context.raw, 1, &pointer, nil, &status)
        }
        guard let created, status == CL_SUCCESS else { throw .openCL(call: "clCreateProgramWithSource", code: status) }
        let program = CLHandle(created, release: clReleaseProgram)
        var id: cl_device_id? = device
        let built = clBuildProgram(program.raw, 1, &id, options, nil, nil)
        if built != CL_SUCCESS {
            let log = clInfoString { clGetProgramBuildInfo(program.raw, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2) }
            throw .kernelBuildFailed(kernel: family, device: deviceName,
                                     log: log.isEmpty ? "clBuildProgram failed with OpenCL error \(built)" : log)
        }
        return program
    }

    private func loadBinary(_ file: URL, options: String) -> CLHandle? {
        guard let data = try? Data(contentsOf: file), !data.isEmpty else { return nil }
        var status: cl_int = CL_SUCCESS, binaryStatus: cl_int = CL_SUCCESS
        var id: cl_device_id? = device
        var length = data.count
        let created: cl_program? = data.withUnsafeBytes { bytes in
            var pointer = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return clCreateProgramWithBinary(context.raw, 1, &id, &length, &pointer, &binaryStatus, &status)
        }
        guard let created else { return nil }
        let program = CLHandle(created, release: clReleaseProgram)
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS,
              clBuildProgram(program.raw, 1, &id, options, nil, nil) == CL_SUCCESS else {
            try? FileManager.default.removeItem(at: file) // unloadable: let the rebuild replace it
            return nil
        }
        return program
    }

    private func saveBinary(of program: CLHandle, to file: URL) {
        var size = 0
        guard clGetProgramInfo(program.raw, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
                == CL_SUCCESS, size > 0 else { return }
        var binary = Data(count: size)
        let status = binary.withUnsafeMutableBytes { bytes -> cl_int in
            var pointer: UnsafeMutableRawPointer? = bytes.baseAddress
            return clGetProgramInfo(program.raw, cl_program_info(CL_PROGRAM_BINARIES),
                                    MemoryLayout<UnsafeMutableRawPointer?>.size, &pointer, nil)
        }
        guard status == CL_SUCCESS else { return }
        // Written to a temporary file and renamed, so a concurrent process never reads half a file.
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? binary.write(to: file, options: .atomic)
    }
}

/// 64-bit FNV-1a: a stable hash (unlike `Hasher`, which is seeded per process) for cache keys.
func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
