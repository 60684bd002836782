import XCTest
@testable import Tessel

/// Cases that once stopped the process: each runs on every device.
final class EdgeCaseConformanceTests: XCTestCase {
    func testVectorDotVectorIsZeroDimensional() {
        forEachDevice { device in
            let v = Tensor([1, 2, 3] as [Float], device: device)
            let dot = v.matmul(v)
            XCTAssertEqual(dot.shape, [], "[\(device)]")
            XCTAssertEqual(dot.item(), 14, "[\(device)]")
            let m = Tensor([[1, 2, 3], [4, 5, 6]] as [[Float]], device: device)
            XCTAssertEqual(m.matmul(v).toArray(), [14, 32], "[\(device)]")
            XCTAssertEqual(v.matmul(m.T).toArray(), [14, 32], "[\(device)]")
        }
    }

    func testExtremeInt32ValuesPrintExactly() {
        forEachDevice { device in
            let t = Tensor([Int32.max, Int32.min] as [Int32], device: device)
            let suffix = device == .cpu ? "dtype: int32" : "device: \(device), dtype: int32"
            XCTAssertEqual(t.description, "tensor([2147483647, -2147483648], \(suffix))")
        }
    }

    func testAxisZeroOfAZeroDimensionalTensor() {
        forEachDevice { device in
            let x = Tensor(Float(3), device: device)
            XCTAssertEqual(x.sum(axis: 0).item(), 3, "[\(device)]")
            XCTAssertEqual(x.max(axis: -1).item(), 3, "[\(device)]")
            XCTAssertEqual(x.softmax(axis: 0).item(), 1, "[\(device)]")
            XCTAssertEqual(x.logSumExp(axis: 0).item(), 3, accuracy: 1e-6, "[\(device)]")
        }
    }

    func testArangeWithOnlyAnEnd() {
        forEachDevice { device in
            XCTAssertEqual(Tensor.arange(5, device: device).scalars(as: Int32.self), [0, 1, 2, 3, 4], "[\(device)]")
        }
    }

    func testSqueezeOfAZeroDimensionalTensorIsItself() {
        forEachDevice { device in
            let x = Tensor(Float(3), device: device)
            XCTAssertEqual(x.squeeze().shape, [], "[\(device)]")
            XCTAssertEqual(x.squeeze(axis: 0).item(), 3, "[\(device)]")
        }
    }

    func testInt32ClampWithInfiniteOrFractionalBounds() {
        forEachDevice { device in
            let x = Tensor([Int32.min, -5, 0, 5, Int32.max] as [Int32], device: device)
            XCTAssertEqual(x.clamp(min: -.infinity, max: .infinity).scalars(as: Int32.self), [Int32.min, -5, 0, 5, Int32.max],
                           "[\(device)] infinite bounds are no bounds")
            XCTAssertEqual(x.clamp(min: -2.5, max: 3.5).scalars(as: Int32.self), [-2, -2, 0, 3, 3],
                           "[\(device)] fractional bounds round inward")
            XCTAssertEqual(x.clamp(max: -1e12).scalars(as: Int32.self), [Int32.min, Int32.min, Int32.min, Int32.min, Int32.min],
                           "[\(device)] a bound past int32 saturates")
            XCTAssertEqual(x.clamp(min: 0).dtype, .int32)
        }
    }
}
