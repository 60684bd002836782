import Foundation

/// A place where tensors live and kernels run: `cpu`, `opencl:0`, ...
///
/// The default device comes from `TESSEL_DEVICE` (`cpu`, `opencl`, `opencl:N`), else it is the
/// best one found: an OpenCL GPU or accelerator over the CPU backend. OpenCL CPU devices (pocl)
/// are used only when asked for by name. `Device.withDefault(_:_:)` overrides it for a task.
public struct Device: Hashable, Sendable, CustomStringConvertible {
    /// The backend family: `"cpu"` or `"opencl"` (or any registered provider's name).
    public let family: String
    /// Index among that family's devices.
    public let index: Int

    public init(family: String, index: Int = 0) {
        self.family = family
        self.index = index
    }

    /// The SIMD CPU backend.
    public static let cpu = Device(family: "cpu")

    /// The `index`-th OpenCL device.
    public static func opencl(_ index: Int = 0) -> Device { Device(family: "opencl", index: index) }

    public var description: String { family == "cpu" ? "cpu" : "\(family):\(index)" }

    /// Parses `cpu`, `opencl`, `opencl:N`.
    public init(parsing text: String) throws(TesselError) {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        guard let family = parts.first, !family.isEmpty, parts.count <= 2 else { throw .invalidDeviceName(text) }
        var index = 0
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed >= 0 else { throw .invalidDeviceName(text) }
            index = parsed
        }
        guard BackendRegistry.provider(named: String(family)) != nil else { throw .invalidDeviceName(text) }
        self.init(family: String(family), index: index)
    }

    @TaskLocal static var taskDefault: Device?

    /// The device new tensors go to when none is named. A bad `TESSEL_DEVICE` stops the
    /// program with a message naming the devices found; programs that want to report it
    /// themselves call `configuredDefault()` first.
    public static var `default`: Device {
        if let taskDefault { return taskDefault }
        switch BackendRegistry.defaultDevice {
        case .success(let device): return device
        case .failure(let error): checkFailure(error.description)
        }
    }

    /// The default device as `TESSEL_DEVICE` or discovery picks it, or the error that makes
    /// `TESSEL_DEVICE` unusable.
    public static func configuredDefault() throws(TesselError) -> Device {
        try BackendRegistry.defaultDevice.get()
    }

    /// Runs `body` with `device` as the default device for tensors created in it.
    public static func withDefault<R>(_ device: Device, _ body: () throws -> R) rethrows -> R {
        try $taskDefault.withValue(device, operation: body)
    }

    /// Every device found on this machine, CPU first.
    public static var all: [Device] { BackendRegistry.allDevices }

    /// The device to train on when none is named: the first GPU or accelerator that starts,
    /// else the CPU (a CPU OpenCL driver such as pocl is slower than the CPU backend).
    public static var best: Device {
        for device in all where device != .cpu {
            guard let info = try? device.backend().info else { continue }
            if info.details.contains(where: { $0.0 == "type" && ($0.1 == "GPU" || $0.1 == "accelerator") }) { return device }
        }
        return .cpu
    }

    /// The backend that runs this device's kernels, created (and its kernels built) on first use.
    public func backend() throws(TesselError) -> any Backend { try BackendRegistry.backend(for: self) }

    /// The backend, or a stop with the error's message: used by tensor operations, which do not throw.
    var resolvedBackend: any Backend {
        do { return try backend() } catch { checkFailure(error.description) }
    }
}
