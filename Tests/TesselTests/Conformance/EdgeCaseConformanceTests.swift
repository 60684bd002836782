import Synchronization
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

/// Cases a review of the op-vocabulary change found.
final class ReviewEdgeCaseTests: XCTestCase {
    func testAnyOfAnEmptyAxisIsFalseAndNonzeroOfAScalar() {
        forEachDevice { device in
            XCTAssertEqual(Tensor([Float](), device: device).any().item(as: Bool.self), false, "[\(device)]")
            XCTAssertEqual(Tensor.zeros([3, 0], device: device).any(axes: [1]).scalars(as: Bool.self), [false, false, false])
            XCTAssertEqual(Tensor(Float(2), device: device).nonzero().shape, [1, 0], "[\(device)] as PyTorch")
            XCTAssertEqual(Tensor(Float(0), device: device).nonzero().shape, [0, 0], "[\(device)]")
        }
    }

    func testExtremeStepsAndClosedRangesThroughTheEnd() {
        forEachDevice { device in
            let x = Tensor.arange(5, device: device)
            XCTAssertEqual(x[.stride(by: Int.max)].scalars(as: Int32.self), [0], "[\(device)] step Int.max")
            XCTAssertEqual(x[.stride(by: Int.min)].scalars(as: Int32.self), [4], "[\(device)] step Int.min")
            XCTAssertEqual(x[(-3)...(-1)].scalars(as: Int32.self), [2, 3, 4], "[\(device)] x[-3:] as a closed range")
            XCTAssertEqual(x[...(-1)].scalars(as: Int32.self), [0, 1, 2, 3, 4], "[\(device)] through the last")
            XCTAssertEqual(x[...(-2)].scalars(as: Int32.self), [0, 1, 2, 3], "[\(device)]")
        }
    }

    func testInterleavedStridedViewsCanBeWritten() {
        forEachDevice { device in
            // Offsets {0, 2, 4, 3, 5, 7}: all distinct, though the strides interleave.
            let base = Tensor.ones([8], device: device)
            var view = base.asStrided(shape: [3, 2], strides: [2, 3])
            view.fill(0)
            XCTAssertEqual(base.toArray(), [0, 1, 0, 0, 0, 0, 1, 0], "[\(device)]")
        }
    }

    func testInPlaceGatherOfItsOwnSourceReadsBeforeWriting() {
        forEachDevice { device in
            let source = Tensor([10, 20, 30] as [Float], device: device)
            let index = Tensor([2, 0, 1] as [Int32], device: device)
            let written = Dispatch.run(.gather(axis: 0), [source, index], into: source)
            XCTAssertEqual(written.toArray(), [30, 10, 20], "[\(device)]")
        }
    }

    func testCachedConstantsAreNotWritableThroughObservers() {
        final class Keep: OpObserver {
            let inputs = Mutex<[Tensor]>([])
            func record(_ record: OpRecord) { inputs.withLock { $0 += record.inputs } }
        }
        let keep = Keep()
        let x = Tensor([1, 2] as [Float], device: .cpu)
        _ = x * 7 // the second use of a value caches it
        _ = Tensor.observingOps(keep) { x * 7 }
        let constant = keep.inputs.withLock { $0 }.first { $0.rank == 0 }
        XCTAssertNotNil(constant)
        XCTAssertTrue(constant?.storage.isFrozen ?? false, "the shared constant is frozen")
        XCTAssertEqual((x * 7).toArray(), [7, 14])
    }
}
