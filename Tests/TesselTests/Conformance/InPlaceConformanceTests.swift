import XCTest
@testable import Tessel

/// In-place updates on every device: compound assignment, slice assignment, copy, fill, and
/// the storage's version counter.
final class InPlaceConformanceTests: XCTestCase {
    func testCompoundAssignmentKeepsTheStorage() {
        forEachDevice { device in
            var x = Tensor([1, 2, 3, 4] as [Float], device: device)
            let alias = x.reshape([2, 2])
            let before = x.version
            x += Tensor([10, 20, 30, 40] as [Float], device: device)
            x -= 1
            x *= Tensor(Float(2), device: device)
            x /= 4
            XCTAssertEqual(x.toArray(), [5, 10.5, 16, 21.5], "[\(device)] += -= *= /=")
            XCTAssertEqual(alias.toArray(), [5, 10.5, 16, 21.5], "[\(device)] a view of the storage sees the writes")
            XCTAssertEqual(x.version, before + 4, "[\(device)] each write bumps the version")
            XCTAssertEqual(alias.version, x.version, "[\(device)] views share the version")
        }
    }

    func testUpdateBroadcastsTheRightHandSide() {
        forEachDevice { device in
            var m = Tensor.zeros([3, 4], device: device)
            m += Tensor([1, 2, 3, 4] as [Float], device: device)
            m *= Tensor([[1], [10], [100]] as [[Float]], device: device)
            XCTAssertEqual(m.toArray(), [1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400], "[\(device)]")
            var ints = Tensor([1, 2, 3] as [Int32], device: device)
            ints += 5
            XCTAssertEqual(ints.dtype, .int32)
            XCTAssertEqual(ints.scalars(as: Int32.self), [6, 7, 8], "[\(device)] int32 += Int")
            var floats = Tensor([1, 2, 3] as [Float], device: device)
            floats += Tensor([1, 1, 1] as [Int32], device: device)
            XCTAssertEqual(floats.toArray(), [2, 3, 4], "[\(device)] float32 += int32 converts the operand")
        }
    }

    func testUpdateOfAStridedViewLandsInTheBase() {
        forEachDevice { device in
            let base = Tensor((0..<12).map(Float.init), device: device).reshape([3, 4])
            // A column (stride 4), a transposed view and a stepped slice, each updated in place.
            var column = base[.all, 1]
            column += 100
            var transposed = base.T
            transposed *= Tensor([1, 1, -1, 1] as [Float], device: device).reshape([4, 1])
            var stepped = base[.all, .stride(0..<4, by: 3)]
            stepped -= Tensor([[1000, 2000]] as [[Float]], device: device)
            XCTAssertEqual(base.toArray(), [-1000, 101, -2, -1997, -996, 105, -6, -1993, -992, 109, -10, -1989],
                           "[\(device)]")
        }
    }

    func testSliceAssignmentAndCopy() {
        forEachDevice { device in
            var x = Tensor.zeros([2, 5], device: device)
            x[0, 1..<4] = Tensor([1, 2, 3] as [Float], device: device)
            x[1] = Tensor(Float(7), device: device)
            XCTAssertEqual(x.toArray(), [0, 1, 2, 3, 0, 7, 7, 7, 7, 7], "[\(device)] x[0, 1..<4] = y; x[1] = 7")
            var y = Tensor.ones([2, 5], dtype: .int32, device: device)
            y.copy(from: x)
            XCTAssertEqual(y.scalars(as: Int32.self), [0, 1, 2, 3, 0, 7, 7, 7, 7, 7], "[\(device)] copy converts to int32")
            var row = x[1]
            row.zero()
            x[0, .stride(from: 4, by: -2)].copy(from: Tensor([9, 8, 6] as [Float], device: device))
            XCTAssertEqual(x.toArray(), [6, 1, 8, 3, 9, 0, 0, 0, 0, 0], "[\(device)] zero() of a row; copy into a reversed view")
            var filled = Tensor.zeros([2, 3], dtype: .int32, device: device)
            filled.fill(-4)
            XCTAssertEqual(filled.scalars(as: Int32.self), [-4, -4, -4, -4, -4, -4], "[\(device)] fill")
            var strided = filled.T
            strided[0].fill(5)
            XCTAssertEqual(filled.scalars(as: Int32.self), [5, -4, -4, 5, -4, -4], "[\(device)] fill of a strided view")
        }
    }

    func testOverlappingSelfCopyReadsBeforeWriting() {
        forEachDevice { device in
            var x = Tensor((0..<8).map(Float.init), device: device)
            x[1...] = x[..<7]
            XCTAssertEqual(x.toArray(), [0, 0, 1, 2, 3, 4, 5, 6], "[\(device)] x[1:] = x[:-1]")
            var y = Tensor((0..<8).map(Float.init), device: device)
            y[..<7] = y[1...] + y[1...]
            XCTAssertEqual(y.toArray(), [2, 4, 6, 8, 10, 12, 14, 7], "[\(device)] x[:-1] = x[1:] * 2")
            var z = Tensor((0..<4).map(Float.init), device: device)
            var reversed = z[.stride(by: -1)]
            reversed += z
            XCTAssertEqual(z.toArray(), [3, 3, 3, 3], "[\(device)] x[::-1] += x reads x before writing it")
            z += z
            XCTAssertEqual(z.toArray(), [6, 6, 6, 6], "[\(device)] x += x")
        }
    }

    func testInPlaceOnContiguousSliceAtAnOffset() {
        forEachDevice { device in
            let base = Tensor((0..<10).map(Float.init), device: device)
            var middle = base[3..<7]
            middle.copy(from: middle.exp().log() * 0 + middle.relu() + 1)
            middle = middle.sigmoid() // a new tensor: the base keeps the in-place result
            XCTAssertEqual(base.toArray(), [0, 1, 2, 4, 5, 6, 7, 7, 8, 9], "[\(device)]")
        }
    }
}
