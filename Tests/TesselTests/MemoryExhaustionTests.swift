import XCTest
@testable import Tessel

/// A full device is a `TesselError` the caller can handle at a throwing read, not a stop: the
/// op that could not get memory gives a tensor that carries the error through later ops.
final class MemoryExhaustionTests: XCTestCase {
    private func pool(of device: Device) throws -> (limit: (Int?) -> Void, active: () -> Int) {
        let backend = try device.backend()
        if let cpu = backend as? CPUBackend { return ({ cpu.pool.setActiveLimit($0) }, { cpu.memoryStats.activeBytes }) }
        let opencl = try XCTUnwrap(backend as? OpenCLBackend)
        return ({ opencl.allocator.pool.setActiveLimit($0) }, { opencl.memoryStats.activeBytes })
    }

    func testAFullDeviceIsAThrownErrorAtTheRead() throws {
        for device in conformanceDevices() {
            let (limit, active) = try pool(of: device)
            let small = Tensor.ones([1000], device: device)
            let scale = Tensor.full([], 2, device: device)
            limit(active() + (1 << 20))
            let big = Tensor.ones([1 << 20], device: device)           // 4 MiB: past the 1 MiB left
            let derived = ((big * scale).exp() + 1).sum(axis: 0)
            let alsoFits = small * scale
            limit(nil)
            XCTAssertEqual(big.failure, .outOfMemory(device: device.description, bytes: 4 << 20), "[\(device)]")
            XCTAssertEqual(derived.shape, [], "[\(device)] shapes flow through the ops after the failure")
            XCTAssertEqual(derived.device, device)
            XCTAssertThrowsError(try derived.checked()) { error in
                XCTAssertEqual(error as? TesselError, .outOfMemory(device: device.description, bytes: 4 << 20), "[\(device)]")
            }
            XCTAssertTrue(derived.description.hasPrefix("tensor(not computed: \(device): out of memory"), derived.description)
            XCTAssertEqual(try alsoFits.checked().sum().item(), 2000, "[\(device)] tensors that fitted are unaffected")
            // With room again, the same op works: the failure was not sticky.
            XCTAssertEqual(Tensor.ones([1 << 20], device: device).sum().item(), Float(1 << 20), "[\(device)]")
        }
    }
}
