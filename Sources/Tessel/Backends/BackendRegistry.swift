import Foundation
import Synchronization

/// One family of devices: finds them and creates their backends.
public protocol BackendProvider: Sendable {
    /// Family name used in device strings (`cpu`, `opencl`).
    static var name: String { get }
    /// Devices of this family on this machine; discovery runs once, on one thread.
    static var deviceCount: Int { get }
    /// Why no device was found (driver missing, no platform), for the one-time notice.
    static var unavailableReason: String? { get }
    /// True for GPUs and other accelerators, which the default device prefers over the CPU.
    static func isAccelerator(index: Int) -> Bool
    /// Creates the backend of device `index`, building its kernels.
    static func makeBackend(index: Int) throws(TesselError) -> any Backend
}

/// The providers Tessel knows, and the backends created so far (one per device, kept for the process).
public enum BackendRegistry {
    /// Adding a backend family: append its provider here.
    static let providers: [any BackendProvider.Type] = [CPUBackendProvider.self, OpenCLBackendProvider.self]

    private static let backends = Mutex<[Device: any Backend]>([:])
    private static let debugNoticeGiven = Mutex(false)

    static func provider(named name: String) -> (any BackendProvider.Type)? {
        providers.first { $0.name == name }
    }

    static var allDevices: [Device] {
        providers.flatMap { provider in (0..<provider.deviceCount).map { Device(family: provider.name, index: $0) } }
    }

    static func backend(for device: Device) throws(TesselError) -> any Backend {
        if let existing = backends.withLock({ $0[device] }) { return existing }
        guard let provider = provider(named: device.family), device.index < provider.deviceCount else {
            throw .deviceNotFound(device.description, found: allDevices.map(\.description))
        }
        // Built outside the lock: building kernels can take seconds and may itself need devices.
        #if DEBUG
        noticeOnce("this binary was built without optimisation: kernels will be slow (build with `make` or -c release)")
        #endif
        let created = try provider.makeBackend(index: device.index)
        return backends.withLock { table in
            if let raced = table[device] { return raced }
            table[device] = created
            return created
        }
    }

    /// Resolved once per process: `TESSEL_DEVICE`, else the first accelerator, else the CPU.
    /// A `TESSEL_DEVICE` that names no usable device is an error (never a quiet run on the CPU).
    static let defaultDevice: Result<Device, TesselError> = {
        if let requested = ProcessInfo.processInfo.environment["TESSEL_DEVICE"], !requested.isEmpty {
            do throws(TesselError) {
                let device = try Device(parsing: requested)
                _ = try device.backend()
                return .success(device)
            } catch {
                return .failure(.badDefaultDevice(requested: requested, reason: error.description,
                                                  found: allDevices.map(\.description)))
            }
        }
        for provider in providers {
            for index in 0..<provider.deviceCount where provider.isAccelerator(index: index) {
                let device = Device(family: provider.name, index: index)
                do {
                    _ = try device.backend()
                    return .success(device)
                } catch {
                    notice("\(device) unusable (\(error)); trying the next device")
                }
            }
        }
        let missing = providers.compactMap { provider in provider.unavailableReason.map { "\(provider.name): \($0)" } }
        if !missing.isEmpty {
            notice("\(missing.joined(separator: "; ")); using the CPU backend")
        }
        return .success(.cpu)
    }()

    /// Prints a one-line notice to standard error.
    static func notice(_ message: String) {
        FileHandle.standardError.write(Data("tessel: \(message)\n".utf8))
    }

    /// Prints `message` the first time any caller asks, and never again in this process
    /// (one flag: it serves the debug-build warning only).
    static func noticeOnce(_ message: String) {
        let first = debugNoticeGiven.withLock { given in
            defer { given = true }
            return !given
        }
        if first { notice(message) }
    }
}
