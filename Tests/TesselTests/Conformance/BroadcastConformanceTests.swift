import Foundation
import XCTest
@testable import Tessel

/// NumPy broadcasting on every device: size-1 axes, 0-d scalars, rank mismatch, zero-size axes,
/// strided operands, plus the shape rule itself (`Layout.broadcastShape`) on valid shapes.
/// Incompatible shapes stop the program by design (a precondition), which XCTest cannot catch;
/// that rejection is checked on the independent reference rule only.
final class BroadcastConformanceTests: XCTestCase {
    /// (left shape, right shape, result shape).
    static let cases: [([Int], [Int], [Int])] = [
        ([3, 1], [1, 4], [3, 4]),
        ([2, 3, 4], [4], [2, 3, 4]),
        ([2, 1, 4], [3, 1], [2, 3, 4]),
        ([4], [2, 3, 4], [2, 3, 4]),
        ([], [5], [5]),
        ([5], [], [5]),
        ([], [], []),
        ([1], [2, 3], [2, 3]),
        ([5, 1, 1], [1, 6, 1], [5, 6, 1]),
        ([1, 1, 7], [3, 1, 1], [3, 1, 7]),
        ([17, 1], [1, 1000], [17, 1000]),
        ([0, 3], [3], [0, 3]),
        ([0, 3], [1, 3], [0, 3]),
        ([2, 0], [2, 1], [2, 0]),
        ([1, 0], [3, 1], [3, 0]),
        ([0], [], [0]),
        ([2, 1, 3], [0, 1], [2, 0, 3]),
    ]

    func testBroadcastShapeRule() {
        for (a, b, expected) in Self.cases {
            XCTAssertEqual(Layout.broadcastShape(Dims(a), Dims(b), op: "test"), Dims(expected), "Layout.broadcastShape(\(a), \(b))")
            XCTAssertEqual(Layout.broadcastShape(Dims(b), Dims(a), op: "test"), Dims(expected), "Layout.broadcastShape(\(b), \(a))")
            XCTAssertEqual(RefArray.broadcastShape(a, b), expected, "reference rule \(a), \(b)")
        }
        // Incompatible shapes: the reference rejects them (Tessel stops with a precondition).
        XCTAssertNil(RefArray.broadcastShape([3], [4]))
        XCTAssertNil(RefArray.broadcastShape([2, 3], [3, 2]))
        XCTAssertNil(RefArray.broadcastShape([0], [2]))
    }

    func testBroadcastArithmetic() {
        forEachDevice { device in
            for (i, (sa, sb, expectedShape)) in Self.cases.enumerated() {
                let a = RefArray(shape: sa, floats: randomFloats(sa.reduce(1, *), in: -4...4, seed: UInt64(i * 2)))
                let b = RefArray(shape: sb, floats: randomFloats(sb.reduce(1, *), in: 0.5...4, seed: UInt64(i * 2 + 1)))
                let x = floatTensor(a, device: device), y = floatTensor(b, device: device)
                let label = "\(sa) op \(sb)"
                XCTAssertEqual((x + y).shape, expectedShape, "[\(device)] shape of \(label)")
                assertClose(x + y, RefArray.zip(a, b, +), elementwiseTolerance, "\(label) +")
                assertClose(y - x, RefArray.zip(b, a, -), elementwiseTolerance, "\(label) - (reversed)")
                assertClose(x * y, RefArray.zip(a, b, *), elementwiseTolerance, "\(label) *")
                assertClose(x / y, RefArray.zip(a, b, /), elementwiseTolerance, "\(label) /")
                assertClose(x.maximum(y), RefArray.zip(a, b) { Swift.max($0, $1) }, elementwiseTolerance, "\(label) maximum")
                assertExact(x .< y, RefArray.zip(a, b) { $0 < $1 ? 1 : 0 }, dtype: .bool, "\(label) .<")
                assertExact(Tensor.where(x .> 0, x, y), RefArray.zip(a, b) { $0 > 0 ? $0 : $1 }, "where \(label)")
            }
        }
    }

    func testBroadcastWithStridedOperands() {
        forEachDevice { device in
            // A transposed [33, 17] matrix plus a sliced row and a column taken from a matrix.
            let base = RefArray(shape: [17, 33], floats: randomFloats(17 * 33, seed: 90))
            let matrix = floatTensor(base, device: device).T
            let matrixRef = base.permuted([1, 0])
            let wide = RefArray(shape: [2, 40], floats: randomFloats(80, seed: 91))
            let row = floatTensor(wide, device: device)[1, .stride(1..<35, by: 2)]          // [17], stride 2
            let rowRef = wide.sliced(axis: 1, start: 1, step: 2, count: 17).sliced(axis: 0, start: 1, step: 1, count: 1).reshaped([17])
            let columnSource = RefArray(shape: [33, 3], floats: randomFloats(99, seed: 92))
            let column = floatTensor(columnSource, device: device)[.all, 2...2]               // [33, 1], stride 3
            let columnRef = columnSource.sliced(axis: 1, start: 2, step: 1, count: 1)
            assertClose(matrix + row, RefArray.zip(matrixRef, rowRef, +), elementwiseTolerance, "transposed + strided row")
            assertClose(matrix * column, RefArray.zip(matrixRef, columnRef, *), elementwiseTolerance, "transposed * strided column")
            assertClose(row - column, RefArray.zip(rowRef, columnRef, -), elementwiseTolerance, "row - column outer")
            let expanded = floatTensor(RefArray(shape: [1, 17], floats: randomFloats(17, seed: 93)), device: device).expand([33, 17])
            let expandedRef = RefArray(shape: [1, 17], floats: randomFloats(17, seed: 93)).broadcast(to: [33, 17])
            assertClose(expanded + matrix, RefArray.zip(expandedRef, matrixRef, +), elementwiseTolerance, "expanded + transposed")
            assertClose(expanded.unsqueeze(axis: 0) + matrix.unsqueeze(axis: 1),
                        RefArray.zip(expandedRef.reshaped([1, 33, 17]), matrixRef.reshaped([33, 1, 17]), +),
                        elementwiseTolerance, "[1,33,17] + [33,1,17] from views")
        }
    }

    func testZeroSizeResults() {
        forEachDevice { device in
            let empty = Tensor.zeros([0, 3], device: device)
            let row = Tensor([1, 2, 3] as [Float], device: device)
            let sum = empty + row
            XCTAssertEqual(sum.shape, [0, 3], "[\(device)] [0,3] + [3]")
            XCTAssertEqual(sum.toArray(), [], "[\(device)] [0,3] + [3] values")
            XCTAssertEqual((empty .< row).dtype, .bool, "[\(device)] [0,3] .< [3] dtype")
            XCTAssertEqual((empty .< row).shape, [0, 3], "[\(device)] [0,3] .< [3]")
            XCTAssertEqual((Tensor.zeros([3, 0], dtype: .int32, device: device) * 2).shape, [3, 0], "[\(device)] int [3,0] * 2")
            XCTAssertEqual(Tensor.where(Tensor.zeros([0], dtype: .bool, device: device), row[..<0], Tensor(Float(1), device: device)).shape,
                           [0], "[\(device)] where on [0]")
        }
    }

    func testScalarTensorsCombine() {
        forEachDevice { device in
            let two = Tensor(Float(2), device: device), three = Tensor(Float(3), device: device)
            XCTAssertEqual((two * three).shape, [], "[\(device)] 0-d * 0-d shape")
            XCTAssertEqual((two * three).item(), 6, "[\(device)] 0-d * 0-d")
            XCTAssertEqual((two.pow(three) - 1).item(), 7, "[\(device)] 0-d pow, minus scalar")
            let ints = Tensor(Int32(7), device: device).floorDivide(Tensor(Int32(2), device: device))
            XCTAssertEqual(ints.dtype, .int32, "[\(device)] 0-d int32 floorDivide 0-d int32 dtype")
            XCTAssertEqual(ints.item(as: Int32.self), 3, "[\(device)] 0-d int32 floorDivide 0-d int32")
            let quotient = Tensor(Int32(7), device: device) / Tensor(Int32(2), device: device)
            XCTAssertEqual(quotient.dtype, .float32, "[\(device)] 0-d int32 / 0-d int32 is float32")
            XCTAssertEqual(quotient.item(), 3.5, "[\(device)] 0-d int32 / 0-d int32 is true division")
            let mixed = Tensor(Int32(7), device: device) / Tensor(Float(2), device: device)
            XCTAssertEqual(mixed.dtype, .float32, "[\(device)] int32 / float32 promotes")
            XCTAssertEqual(mixed.item(), 3.5, "[\(device)] int32 / float32 value")
        }
    }
}
