import Foundation
import XCTest
@testable import Tessel

/// A 16M-element (16 * 1024 * 1024) tensor on every device: sum, mean, add, max and argmax
/// against a Double reference. Positive values make the sum well conditioned, so a relative error
/// above 1e-5 means the reduction accumulates badly (a naive float loop drifts by ~1e-2 here).
final class LargeTensorConformanceTests: XCTestCase {
    static let count = 16 * 1024 * 1024
    /// Relative error allowed on the sum of 16M positive float32 values.
    static let sumRelativeError = 1e-5

    func test16MElementSumAddMax() {
        let n = Self.count
        var x = randomFloats(n, in: 0...1, seed: 16)
        let peakIndex = 12_345_677
        x[peakIndex] = 3
        x[n - 1] = 3                                      // a later tie: argmax must keep the first
        let y = randomFloats(n, in: -1...1, seed: 17)
        let exactSum = x.reduce(0.0) { $0 + Double($1) }
        forEachDevice { device in
            let tx = Tensor(x, device: device)
            let sum = Double(tx.sum().item())
            XCTAssertEqual(sum, exactSum, accuracy: exactSum * Self.sumRelativeError, "[\(device)] sum of 16M")
            XCTAssertEqual(Double(tx.mean().item()), exactSum / Double(n), accuracy: exactSum / Double(n) * Self.sumRelativeError,
                           "[\(device)] mean of 16M")
            XCTAssertEqual(tx.max().item(), 3, "[\(device)] max of 16M")
            XCTAssertEqual(tx.argmax().item(as: Int32.self), Int32(peakIndex), "[\(device)] argmax of 16M (first of ties)")
            XCTAssertEqual((-tx).min().item(), -3, "[\(device)] min of 16M")

            let sum2 = (tx + Tensor(y, device: device)).scalars(as: Float.self)
            var mismatches = 0
            for i in 0..<n where sum2[i] != x[i] + y[i] { mismatches += 1 }
            XCTAssertEqual(mismatches, 0, "[\(device)] 16M element-wise add (float32 add is exactly rounded)")

            // Rows and columns of the same data: [4096, 4096] summed along each axis.
            let matrix = tx.reshape([4096, 4096])
            let rowSums = matrix.sum(axis: 1).scalars(as: Float.self)
            let columnSums = matrix.sum(axis: 0).scalars(as: Float.self)
            var rowFailures = 0, columnFailures = 0
            for r in Swift.stride(from: 0, to: 4096, by: 97) {
                var expected = 0.0
                for c in 0..<4096 { expected += Double(x[r * 4096 + c]) }
                if Swift.abs(Double(rowSums[r]) - expected) > expected * Self.sumRelativeError { rowFailures += 1 }
                var column = 0.0
                for q in 0..<4096 { column += Double(x[q * 4096 + r]) }
                if Swift.abs(Double(columnSums[r]) - column) > column * Self.sumRelativeError { columnFailures += 1 }
            }
            XCTAssertEqual(rowFailures, 0, "[\(device)] row sums of [4096, 4096]")
            XCTAssertEqual(columnFailures, 0, "[\(device)] column sums of [4096, 4096]")
            XCTAssertEqual(Double(matrix.T.sum().item()), exactSum, accuracy: exactSum * Self.sumRelativeError,
                           "[\(device)] sum of the transposed [4096, 4096]")
        }
    }
}
