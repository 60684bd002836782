/// Errors that come from outside the program: devices, drivers, kernel builds, files and input data.
///
/// Programmer errors (mismatched shapes, an axis out of range) are not thrown: they stop the
/// program with a message naming the operation and the shapes involved, as PyTorch and MLX do.
public enum TesselError: Error, CustomStringConvertible, Equatable {
    /// No device of that name exists on this machine; `found` lists those that do.
    case deviceNotFound(String, found: [String])
    /// `TESSEL_DEVICE` names a device that cannot be used.
    case badDefaultDevice(requested: String, reason: String, found: [String])
    /// A device was found but could not be initialised.
    case deviceInitFailed(device: String, reason: String)
    /// An OpenCL kernel family failed to build; `log` is the compiler's build log.
    case kernelBuildFailed(kernel: String, device: String, log: String)
    /// An OpenCL call failed with the given status code.
    case openCL(call: String, code: Int32)
    /// An initialiser was given a number of elements that does not fill the shape.
    case elementCountMismatch(expected: Int, got: Int, shape: [Int])
    /// The device had no room for a tensor of `bytes`, even after its cache was emptied.
    case outOfMemory(device: String, bytes: Int)
    /// A `TESSEL_DEVICE` value or device string could not be parsed.
    case invalidDeviceName(String)

    public var description: String {
        switch self {
        case .deviceNotFound(let name, let found):
            return "no device '\(name)' on this machine (found: \(found.joined(separator: ", ")))"
        case .badDefaultDevice(let requested, let reason, let found):
            return "TESSEL_DEVICE=\(requested): \(reason); the devices here are \(found.joined(separator: ", "))"
        case .deviceInitFailed(let device, let reason):
            return "could not initialise \(device): \(reason)"
        case .kernelBuildFailed(let kernel, let device, let log):
            return "OpenCL kernel family '\(kernel)' failed to build on \(device):\n\(log)"
        case .openCL(let call, let code):
            return "\(call) failed with OpenCL error \(code)"
        case .elementCountMismatch(let expected, let got, let shape):
            return "shape \(shape) needs \(expected) elements, got \(got)"
        case .outOfMemory(let device, let bytes):
            return "\(device): out of memory allocating \(bytes) bytes (free tensors or call emptyMemoryCache(), then retry)"
        case .invalidDeviceName(let name):
            return "invalid device name '\(name)': use cpu, opencl or opencl:N"
        }
    }
}
