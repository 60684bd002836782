import Foundation
import XCTest
@testable import Tessel

/// sum, mean, max, min, argmax, argmin, logSumExp, softmax and logSoftmax on every device, over
/// one, two and all axes of odd shapes, keepDims on and off, negative axes, contiguous and
/// strided inputs, against Double references.
final class ReductionConformanceTests: XCTestCase {
    /// Axis sets tried on a rank-3 tensor (nil = all axes).
    static let axisSets3: [[Int]?] = [nil, [0], [1], [2], [-1], [-2], [0, 2], [1, 2], [-1, 0], [0, 1, 2]]
    static let axisSets2: [[Int]?] = [nil, [0], [1], [-1], [0, 1], [-2, -1]]

    private func checkSumMeanMaxMin(_ operand: Operand, axisSets: [[Int]?], ties: Bool) {
        let x = operand.tensor, r = operand.ref
        for axes in axisSets {
            for keepDims in [false, true] {
                let label = "\(operand.name) \(r.shape) axes \(axes.map { "\($0)" } ?? "all") keepDims \(keepDims)"
                let magnitude = r.reduce(.sumOfMagnitudes, axes: axes, keepDims: keepDims)
                assertReduced(x.sum(axes: axes, keepDims: keepDims), r.reduce(.sum, axes: axes, keepDims: keepDims),
                              magnitude: magnitude, "sum \(label)")
                let count = Double(r.count / Swift.max(magnitude.count, 1))
                assertReduced(x.mean(axes: axes, keepDims: keepDims), r.reduce(.mean, axes: axes, keepDims: keepDims),
                              magnitude: magnitude.map { $0 / count }, "mean \(label)")
                assertExact(x.max(axes: axes, keepDims: keepDims), r.reduce(.max, axes: axes, keepDims: keepDims), "max \(label)")
                assertExact(x.min(axes: axes, keepDims: keepDims), r.reduce(.min, axes: axes, keepDims: keepDims), "min \(label)")
            }
        }
        _ = ties
    }

    private func checkArgReductions(_ operand: Operand) {
        let x = operand.tensor, r = operand.ref
        let axes: [Int?] = [nil] + (0..<r.rank).map { Optional($0) } + [-1]
        for axis in axes {
            for keepDims in [false, true] {
                let label = "\(operand.name) \(r.shape) axis \(axis.map { "\($0)" } ?? "nil") keepDims \(keepDims)"
                var expectedMax = r.reduce(.argmax, axes: axis.map { [$0] }, keepDims: keepDims)
                var expectedMin = r.reduce(.argmin, axes: axis.map { [$0] }, keepDims: keepDims)
                if axis == nil && keepDims {
                    let ones = [Int](repeating: 1, count: r.rank)
                    expectedMax = expectedMax.reshaped(ones)
                    expectedMin = expectedMin.reshaped(ones)
                }
                assertExact(x.argmax(axis: axis, keepDims: keepDims), expectedMax, dtype: .int32, "argmax \(label)")
                assertExact(x.argmin(axis: axis, keepDims: keepDims), expectedMin, dtype: .int32, "argmin \(label)")
            }
        }
    }

    func testReductionsOfRank3() {
        forEachDevice { device in
            for operand in layoutVariants([3, 5, 7], device: device, seed: 1, values: { randomFloats($0, in: -10...10, seed: $1) }) {
                checkSumMeanMaxMin(operand, axisSets: Self.axisSets3, ties: false)
                checkArgReductions(operand)
            }
        }
    }

    func testReductionsOfRank2() {
        forEachDevice { device in
            for shape in [[17, 33], [2, 1000], [300, 3]] {
                for operand in layoutVariants(shape, device: device, seed: 2, values: { randomFloats($0, in: -10...10, seed: $1) }) {
                    checkSumMeanMaxMin(operand, axisSets: Self.axisSets2, ties: false)
                    checkArgReductions(operand)
                }
            }
        }
    }

    func testReductionsOfOddLengthVectors() {
        forEachDevice { device in
            for n in [1, 7, 17, 1000, 65537] {
                for operand in layoutVariants([n], device: device, seed: UInt64(n), values: { randomFloats($0, in: -10...10, seed: $1) }) {
                    checkSumMeanMaxMin(operand, axisSets: [nil, [0], [-1]], ties: false)
                    checkArgReductions(operand)
                }
            }
        }
    }

    func testArgReductionsPickTheFirstOfTies() {
        forEachDevice { device in
            for shape in [[3, 5, 7], [17, 33], [65537]] {
                for operand in layoutVariants(shape, device: device, seed: 3, values: { tieFloats($0, levels: 3, seed: $1) }) {
                    checkArgReductions(operand)
                }
            }
            let flat = Tensor([1, 5, 2, 5, 5, 0, 0] as [Float], device: device)
            XCTAssertEqual(flat.argmax().item(as: Int32.self), 1, "[\(device)] argmax of ties")
            XCTAssertEqual(flat.argmin().item(as: Int32.self), 5, "[\(device)] argmin of ties")
            // Ties in a long row exercise the work-group tree (first index must win in any combine order).
            var long = [Float](repeating: 0, count: 100_003)
            for i in [70_001, 3_333, 99_999, 50_000] { long[i] = 7 }
            XCTAssertEqual(Tensor(long, device: device).argmax().item(as: Int32.self), 3_333, "[\(device)] argmax of 100003 with ties")
            XCTAssertEqual((-Tensor(long, device: device)).argmin().item(as: Int32.self), 3_333, "[\(device)] argmin of 100003 with ties")
        }
    }

    /// Reductions over leading axes large enough that the CPU backend splits the reduced rows
    /// between cores and combines their partial results (NaN and infinities in late rows must
    /// survive the combine), and reduced axes that do not collapse into one stride.
    func testLeadingAxisReductionsLargeEnoughToSplitAcrossCores() {
        forEachDevice { device in
            var values = randomFloats(2048 * 300, in: -10...10, seed: 21)
            values[1500 * 300 + 7] = .nan
            values[1900 * 300 + 11] = -.infinity
            values[10 * 300 + 12] = .infinity
            values[5 * 300 + 290] = -.infinity                // in the last, partial block of 64 columns
            values[2047 * 300 + 299] = 50
            let matrix = try! Tensor(values, shape: [2048, 300], device: device)
            let ref = RefArray(shape: [2048, 300], floats: values)
            for axes in [[0], [-2]] {
                let label = "[2048, 300] axes \(axes)"
                assertReduced(matrix.sum(axes: axes), ref.reduce(.sum, axes: axes),
                              magnitude: ref.reduce(.sumOfMagnitudes, axes: axes), "sum \(label)")
                assertExact(matrix.max(axes: axes), ref.reduce(.max, axes: axes), "max \(label)")
                assertExact(matrix.min(axes: axes), ref.reduce(.min, axes: axes), "min \(label)")
            }
            let cube = try! Tensor(Array(values[0..<(40 * 50 * 70)]), shape: [40, 50, 70], device: device).permute(1, 0, 2)
            let cubeRef = RefArray(shape: [40, 50, 70], floats: Array(values[0..<(40 * 50 * 70)])).permuted([1, 0, 2])
            assertReduced(cube.sum(axes: [0, 1]), cubeRef.reduce(.sum, axes: [0, 1]),
                          magnitude: cubeRef.reduce(.sumOfMagnitudes, axes: [0, 1]), "sum of permuted [50, 40, 70] over axes 0, 1")
            assertExact(cube.max(axes: [0, 1]), cubeRef.reduce(.max, axes: [0, 1]), "max of permuted [50, 40, 70] over axes 0, 1")
            let wide = try! Tensor(randomFloats(16 * 9000, in: -1...1, seed: 22), shape: [16, 9000], device: device)
            let wideRef = RefArray(wide)
            assertReduced(wide.sum(axis: 0), wideRef.reduce(.sum, axes: [0]),
                          magnitude: wideRef.reduce(.sumOfMagnitudes, axes: [0]), "sum of [16, 9000] over axis 0 (three column blocks)")
        }
    }

    func testReductionsWithNaNAndInfinity() {
        forEachDevice { device in
            let x = Tensor([[1, .nan, 3], [-.infinity, 2, .infinity]] as [[Float]], device: device)
            assertExact(x.max(axis: 1), RefArray(shape: [2], data: [.nan, .infinity]), "max propagates NaN")
            assertExact(x.min(axis: 1), RefArray(shape: [2], data: [.nan, -.infinity]), "min propagates NaN")
            assertExact(x.argmax(axis: 1), RefArray(shape: [2], data: [1, 2]), "argmax picks the NaN")
            assertExact(x.argmin(axis: 1), RefArray(shape: [2], data: [1, 0]), "argmin picks the NaN")
            assertExact(x.sum(axis: 1), RefArray(shape: [2], data: [.nan, .nan]), "sum with NaN / inf - inf")
        }
    }

    func testInt32Reductions() {
        forEachDevice { device in
            let values = randomInts(3 * 5 * 7, in: -1000...1000, seed: 8)
            let ref = RefArray(shape: [3, 5, 7], ints: values)
            let base = try! Tensor(values, shape: [3, 5, 7], device: device)
            for (name, x, r) in [("contiguous", base, ref), ("permuted", base.permute(2, 0, 1), ref.permuted([2, 0, 1]))] {
                for axes in [nil, [0], [-1], [0, 2]] as [[Int]?] {
                    let label = "int32 \(name) axes \(axes.map { "\($0)" } ?? "all")"
                    assertExact(x.sum(axes: axes), r.reduce(.sum, axes: axes), dtype: .int32, "sum \(label)")
                    assertExact(x.max(axes: axes), r.reduce(.max, axes: axes), dtype: .int32, "max \(label)")
                    assertExact(x.min(axes: axes), r.reduce(.min, axes: axes), dtype: .int32, "min \(label)")
                    assertClose(x.mean(axes: axes), r.reduce(.mean, axes: axes), elementwiseTolerance, "mean \(label) (float32)")
                }
                assertExact(x.argmax(axis: 1), r.reduce(.argmax, axes: [1]), dtype: .int32, "argmax int32 \(name)")
                assertExact(x.argmin(axis: -1), r.reduce(.argmin, axes: [-1]), dtype: .int32, "argmin int32 \(name)")
            }
            let bools = Tensor([true, false, true, true], device: device)
            XCTAssertEqual(bools.cast(.int32).sum().item(as: Int32.self), 3, "[\(device)] count of true")
        }
    }

    /// Summing a mask counts its true entries: the result must be an int32 count (as NumPy and
    /// PyTorch give an integer), not a bool tensor holding the count.
    func testSumOfBoolIsAnInt32Count() {
        forEachDevice { device in
            let mask = Tensor([true, false, true, true], device: device)
            let total = mask.sum()
            XCTAssertEqual(total.dtype, .int32, "[\(device)] dtype of the sum of a bool tensor")
            XCTAssertEqual(total.item(as: Int32.self), 3, "[\(device)] sum of a bool tensor")
            assertExact((Tensor([[1, 5], [7, 2]] as [[Float]], device: device) .> 1.5).sum(axis: 0), RefArray(shape: [2], data: [1, 2]),
                        dtype: .int32, "per-column count of a mask")
        }
    }

    func testFullReductionsOfZeroDimensionalTensors() {
        forEachDevice { device in
            let s = Tensor(Float(-3.5), device: device)
            assertExact(s.sum(), RefArray(shape: [], data: [-3.5]), "sum of 0-d")
            assertExact(s.mean(), RefArray(shape: [], data: [-3.5]), "mean of 0-d")
            assertExact(s.max(), RefArray(shape: [], data: [-3.5]), "max of 0-d")
            assertExact(s.min(keepDims: true), RefArray(shape: [], data: [-3.5]), "min of 0-d, keepDims")
            assertExact(s.argmax(), RefArray(shape: [], data: [0]), dtype: .int32, "argmax of 0-d")
            assertClose(s.logSumExp(), RefArray(shape: [], data: [-3.5]), softmaxTolerance, "logSumExp of 0-d")
            assertExact(Tensor(Int32(9), device: device).sum(), RefArray(shape: [], data: [9]), dtype: .int32, "int32 sum of 0-d")
        }
    }

    func testSumOverEmptyAxisIsZero() {
        forEachDevice { device in
            let empty = Tensor.zeros([0, 3], device: device)
            assertExact(empty.sum(axis: 0), RefArray(shape: [3], data: [0, 0, 0]), "sum over an empty axis")
            XCTAssertEqual(empty.sum(axis: 1).shape, [0], "[\(device)] sum keeping the empty axis")
            XCTAssertEqual(empty.sum().item(), 0, "[\(device)] sum of no elements")
        }
    }

    // MARK: logSumExp, softmax, logSoftmax

    /// Rows of large magnitude that overflow a naive exp, a uniform row, a row with -inf, a row of all -inf.
    static let extremeRows: [[Float]] = [
        [1000, -1000, 0, 999, 1000, -5],
        [-1000, -1001, -999, -1000, -1002, -1000],
        [3, 3, 3, 3, 3, 3],
        [1, -.infinity, 2, 0.5, -.infinity, -3],
        [88, 89, 90, -88, -89, 0],
    ]

    func testSoftmaxFamilyOnExtremeValues() {
        let ref = RefArray(shape: [5, 6], floats: Self.extremeRows.flatMap { $0 })
        forEachDevice { device in
            let x = floatTensor(ref, device: device)
            assertClose(x.logSumExp(axis: 1), ref.logSumExp(axis: 1).reshaped([5]), softmaxTolerance, "logSumExp of extreme rows")
            assertClose(x.logSumExp(axis: -1, keepDims: true), ref.logSumExp(axis: 1), softmaxTolerance, "logSumExp keepDims")
            assertClose(x.softmax(axis: -1), ref.softmax(axis: 1), softmaxTolerance, "softmax of extreme rows")
            assertClose(x.logSoftmax(axis: 1), ref.logSoftmax(axis: 1), logSoftmaxTolerance, "logSoftmax of extreme rows")
            assertClose(x.T.softmax(axis: 0), ref.softmax(axis: 1).permuted([1, 0]), softmaxTolerance, "softmax along axis 0 of transposed")
            assertClose(x.T.logSumExp(axis: 0), ref.logSumExp(axis: 1).reshaped([5]), softmaxTolerance, "logSumExp along axis 0 of transposed")
            let allNegInf = Tensor([-Float.infinity, -.infinity] as [Float], device: device)
            assertExact(allNegInf.logSumExp(axis: 0), RefArray(shape: [], data: [-.infinity]), "logSumExp of all -inf is -inf")
            for row in 0..<5 {
                let total = x.softmax(axis: 1)[row].sum().item()
                XCTAssertEqual(Double(total), 1, accuracy: 1e-5, "[\(device)] softmax row \(row) sums to 1")
            }
        }
    }

    func testSoftmaxFamilyOnRandomInputs() {
        forEachDevice { device in
            for operand in layoutVariants([3, 5, 7], device: device, seed: 60, values: { randomFloats($0, in: -30...30, seed: $1) }) {
                for axis in [0, 1, 2, -1] {
                    let label = "\(operand.name) axis \(axis)"
                    let lse = operand.ref.logSumExp(axis: axis)
                    assertClose(operand.tensor.logSumExp(axis: axis, keepDims: true), lse, softmaxTolerance, "logSumExp \(label)")
                    assertClose(operand.tensor.softmax(axis: axis), operand.ref.softmax(axis: axis), softmaxTolerance, "softmax \(label)")
                    assertClose(operand.tensor.logSoftmax(axis: axis), operand.ref.logSoftmax(axis: axis), logSoftmaxTolerance,
                                "logSoftmax \(label)")
                }
                let all = operand.ref.reshaped([operand.ref.count]).logSumExp(axis: 0).reshaped([])
                assertClose(operand.tensor.logSumExp(), all, softmaxTolerance, "logSumExp over all axes of \(operand.name)")
                assertClose(operand.tensor.logSumExp(axes: [0, 2]),
                            operand.ref.permuted([1, 0, 2]).reshaped([5, 21]).logSumExp(axis: 1).reshaped([5]),
                            softmaxTolerance, "logSumExp over axes [0, 2] of \(operand.name)")
            }
            for n in [1, 17, 1000, 65537] {
                let ref = RefArray(shape: [n], floats: randomFloats(n, in: -50...50, seed: UInt64(n)))
                let x = floatTensor(ref, device: device)
                assertClose(x.softmax(), ref.softmax(axis: 0), softmaxTolerance, "softmax of [\(n)]")
                assertClose(x.logSoftmax(), ref.logSoftmax(axis: 0), logSoftmaxTolerance, "logSoftmax of [\(n)]")
            }
        }
    }
}
