import Foundation
import XCTest
@testable import Tessel

/// Unary and binary element-wise ops, clamp, comparisons, `where`, casts and int32 arithmetic on
/// every device, on contiguous and strided inputs, against Double references.
final class ElementwiseConformanceTests: XCTestCase {
    /// Lengths that are not multiples of the SIMD width (8/16) nor of a work-group size.
    static let oddLengths = [1, 7, 17, 1000, 65537]
    /// Shapes checked in every layout variant (contiguous, permuted, sliced, expanded).
    static let stridedShapes = [[17, 33], [3, 5, 7]]

    struct UnaryCase: Sendable {
        let name: String
        let domain: ClosedRange<Float>
        let tolerance: Tolerance
        let op: @Sendable (Tensor) -> Tensor
        let ref: @Sendable (Double) -> Double
    }

    static let unaryCases: [UnaryCase] = [
        UnaryCase(name: "neg", domain: -10...10, tolerance: elementwiseTolerance, op: { -$0 }, ref: { -$0 }),
        UnaryCase(name: "neg()", domain: -10...10, tolerance: elementwiseTolerance, op: { $0.neg() }, ref: { -$0 }),
        UnaryCase(name: "abs", domain: -10...10, tolerance: elementwiseTolerance, op: { $0.abs() }, ref: { Swift.abs($0) }),
        UnaryCase(name: "exp", domain: -20...20, tolerance: transcendentalTolerance, op: { $0.exp() }, ref: { Foundation.exp($0) }),
        UnaryCase(name: "log", domain: 0.001...1000, tolerance: transcendentalTolerance, op: { $0.log() }, ref: { Foundation.log($0) }),
        UnaryCase(name: "sqrt", domain: 0...1000, tolerance: elementwiseTolerance, op: { $0.sqrt() }, ref: { $0.squareRoot() }),
        UnaryCase(name: "sin", domain: -6...6, tolerance: transcendentalTolerance, op: { $0.sin() }, ref: { Foundation.sin($0) }),
        UnaryCase(name: "cos", domain: -6...6, tolerance: transcendentalTolerance, op: { $0.cos() }, ref: { Foundation.cos($0) }),
        UnaryCase(name: "tanh", domain: -8...8, tolerance: transcendentalTolerance, op: { $0.tanh() }, ref: { Foundation.tanh($0) }),
        UnaryCase(name: "sigmoid", domain: -30...30, tolerance: transcendentalTolerance, op: { $0.sigmoid() },
                  ref: { 1 / (1 + Foundation.exp(-$0)) }),
        UnaryCase(name: "relu", domain: -10...10, tolerance: elementwiseTolerance, op: { $0.relu() }, ref: { Swift.max($0, 0) }),
        UnaryCase(name: "square", domain: -100...100, tolerance: elementwiseTolerance, op: { $0.square() }, ref: { $0 * $0 }),
    ]

    struct BinaryCase: Sendable {
        let name: String
        let left: ClosedRange<Float>
        let right: ClosedRange<Float>
        let ties: Bool
        let tolerance: Tolerance
        let op: @Sendable (Tensor, Tensor) -> Tensor
        let ref: @Sendable (Double, Double) -> Double
    }

    static let binaryCases: [BinaryCase] = [
        BinaryCase(name: "+", left: -10...10, right: -10...10, ties: false, tolerance: elementwiseTolerance, op: { $0 + $1 }, ref: { $0 + $1 }),
        BinaryCase(name: "-", left: -10...10, right: -10...10, ties: false, tolerance: elementwiseTolerance, op: { $0 - $1 }, ref: { $0 - $1 }),
        BinaryCase(name: "*", left: -10...10, right: -10...10, ties: false, tolerance: elementwiseTolerance, op: { $0 * $1 }, ref: { $0 * $1 }),
        BinaryCase(name: "/", left: -10...10, right: 0.5...4, ties: false, tolerance: elementwiseTolerance, op: { $0 / $1 }, ref: { $0 / $1 }),
        BinaryCase(name: "pow", left: 0.1...4, right: -3...3, ties: false, tolerance: transcendentalTolerance,
                   op: { $0.pow($1) }, ref: { Foundation.pow($0, $1) }),
        BinaryCase(name: "maximum", left: 0...3, right: 0...3, ties: true, tolerance: elementwiseTolerance,
                   op: { $0.maximum($1) }, ref: { Swift.max($0, $1) }),
        BinaryCase(name: "minimum", left: 0...3, right: 0...3, ties: true, tolerance: elementwiseTolerance,
                   op: { $0.minimum($1) }, ref: { Swift.min($0, $1) }),
    ]

    static func values(_ range: ClosedRange<Float>, ties: Bool = false) -> (Int, UInt64) -> [Float] {
        { count, seed in ties ? tieFloats(count, seed: seed) : randomFloats(count, in: range, seed: seed) }
    }

    // MARK: Unary

    func testUnaryOpsOnOddLengths() {
        forEachDevice { device in
            for (c, unary) in Self.unaryCases.enumerated() {
                for n in Self.oddLengths {
                    let ref = RefArray(shape: [n], floats: randomFloats(n, in: unary.domain, seed: UInt64(c * 100 + n)))
                    let x = floatTensor(ref, device: device)
                    assertClose(unary.op(x), ref.map(unary.ref), unary.tolerance, "\(unary.name) on [\(n)]")
                }
            }
        }
    }

    func testUnaryOpsOnStridedLayouts() {
        forEachDevice { device in
            for (c, unary) in Self.unaryCases.enumerated() {
                for shape in Self.stridedShapes {
                    for operand in layoutVariants(shape, device: device, seed: UInt64(c), values: Self.values(unary.domain)) {
                        let result = unary.op(operand.tensor)
                        // A dense permutation (a transpose) keeps its memory order, as PyTorch's
                        // element-wise ops do; anything else (slices, reversed, broadcast) comes out contiguous.
                        if let order = operand.tensor.layout.denseAxisOrder, !operand.tensor.isContiguous {
                            XCTAssertEqual(result.layout.denseAxisOrder, order, "[\(device)] \(unary.name) keeps the memory order of \(operand.name)")
                            XCTAssertFalse(result.isContiguous)
                        } else {
                            XCTAssertTrue(result.isContiguous, "[\(device)] \(unary.name) output should be contiguous for \(operand.name)")
                        }
                        assertClose(result, operand.ref.map(unary.ref), unary.tolerance,
                                    "\(unary.name) on \(operand.name) \(shape)")
                    }
                }
            }
        }
    }

    func testUnaryOpsOnSpecialValues() {
        let inf = Float.infinity, nan = Float.nan
        let input: [Float] = [0, -0.0, 1, -1, inf, -inf, nan, 100, -100, 1e-30]
        let ref = RefArray(shape: [input.count], floats: input)
        forEachDevice { device in
            let x = Tensor(input, device: device)
            assertClose(x.exp(), ref.map { Double(Float(Foundation.exp($0))) }, transcendentalTolerance, "exp special values")
            assertClose(x.abs(), ref.map { Swift.abs($0) }, elementwiseTolerance, "abs special values")
            assertClose(x.relu(), RefArray(shape: [10], data: [0, 0, 1, 0, .infinity, 0, .nan, 100, 0, 1e-30].map { Double(Float($0)) }),
                        elementwiseTolerance, "relu special values (NaN stays NaN)")
            assertClose(x.tanh(), ref.map { Foundation.tanh($0) }, transcendentalTolerance, "tanh special values")
            assertClose(x.sigmoid(), ref.map { 1 / (1 + Foundation.exp(-$0)) }, transcendentalTolerance,
                        "sigmoid special values (no inf/inf)")
            assertClose(x.square(), ref.map { $0 * $0 }.map { Double(Float($0)) }, elementwiseTolerance, "square special values")
            let positive = Tensor([0, 1, -1, inf, nan] as [Float], device: device)
            assertClose(positive.log(), RefArray(shape: [5], data: [-.infinity, 0, .nan, .infinity, .nan]),
                        transcendentalTolerance, "log of 0, 1, -1, inf, nan")
            assertClose(positive.sqrt(), RefArray(shape: [5], data: [0, 1, .nan, .infinity, .nan]),
                        elementwiseTolerance, "sqrt of 0, 1, -1, inf, nan")
        }
    }

    func testUnaryOpsOnZeroSizeAndScalar() {
        forEachDevice { device in
            let empty = Tensor.zeros([0, 3], device: device)
            XCTAssertEqual(empty.exp().shape, [0, 3], "[\(device)] exp of [0, 3]")
            XCTAssertEqual((-empty).toArray(), [], "[\(device)] neg of [0, 3]")
            let scalar = Tensor(Float(2), device: device)
            assertClose(scalar.sqrt(), RefArray(shape: [], data: [Double(2).squareRoot()]), elementwiseTolerance, "sqrt of 0-d")
            assertClose(scalar.exp(), RefArray(shape: [], data: [Foundation.exp(2.0)]), transcendentalTolerance, "exp of 0-d")
        }
    }

    func testFloatFunctionsOfInt32InputGiveFloat32() {
        forEachDevice { device in
            let x = Tensor([1, 4, 9] as [Int32], device: device)
            XCTAssertEqual(x.sqrt().dtype, .float32, "[\(device)] sqrt of int32")
            assertClose(x.sqrt(), RefArray(shape: [3], data: [1, 2, 3]), elementwiseTolerance, "sqrt of int32")
            assertClose(x.exp(), RefArray(shape: [3], data: [1, 4, 9].map { Foundation.exp($0) }), transcendentalTolerance, "exp of int32")
        }
    }

    /// As many axes as a tensor has (8, all of which the OpenCL kernels decode), none of which
    /// can be collapsed: a reversed permutation of a rank-8 tensor.
    func testHighRankStridedTensors() {
        let shape = [2, 3, 2, 3, 2, 2, 3, 2]
        let order = Array((0..<8).reversed())
        let base = RefArray(shape: shape, floats: randomFloats(shape.reduce(1, *), in: -3...3, seed: 10))
        let other = RefArray(shape: order.map { shape[$0] }, floats: randomFloats(shape.reduce(1, *), in: -3...3, seed: 11))
        forEachDevice { device in
            let x = floatTensor(base, device: device).permute(order), xr = base.permuted(order)
            let y = floatTensor(other, device: device), yr = other
            assertClose(x.exp(), xr.map { Foundation.exp($0) }, transcendentalTolerance, "exp of a rank-8 permuted tensor")
            assertClose(x + y, RefArray.zip(xr, yr, +), elementwiseTolerance, "rank-8 permuted + contiguous")
            assertExact(x .> y, RefArray.zip(xr, yr) { $0 > $1 ? 1 : 0 }, dtype: .bool, "rank-8 comparison")
            assertExact(Tensor.where(x .> 0, x, y), RefArray.zip(xr, yr) { $0 > 0 ? $0 : $1 }, "rank-8 where")
            assertExact(x.contiguous(), xr, "rank-8 contiguous()")
            assertExact(x.cast(.int32), xr.map { $0.rounded(.towardZero) }, dtype: .int32, "rank-8 cast")
            assertReduced(x.sum(axes: [0, 3, 7]), xr.reduce(.sum, axes: [0, 3, 7]),
                          magnitude: xr.reduce(.sumOfMagnitudes, axes: [0, 3, 7]), "rank-8 sum over 3 axes")
            assertExact(x.max(axes: [1, 2, 5, 6]), xr.reduce(.max, axes: [1, 2, 5, 6]), "rank-8 max over 4 axes")
            assertExact(x.argmax(axis: 4), xr.reduce(.argmax, axes: [4]), dtype: .int32, "rank-8 argmax")
            let index = RefArray.generate(order.map { shape[$0] }.enumerated().map { $0.offset == 6 ? 1 : $0.element }) { c in
                Double((c.reduce(0, +)) % 2)
            }
            assertExact(x.gather(axis: 6, index: intTensor(index, device: device)),
                        RefArray.generate(index.shape) { c in
                            var source = c
                            source[6] = Int(index[c])
                            return xr[source]
                        }, "rank-8 gather")
        }
    }

    // MARK: Binary

    func testBinaryOpsOnOddLengths() {
        forEachDevice { device in
            for (c, binary) in Self.binaryCases.enumerated() {
                for n in Self.oddLengths {
                    let a = RefArray(shape: [n], floats: Self.values(binary.left, ties: binary.ties)(n, UInt64(c * 1000 + n)))
                    let b = RefArray(shape: [n], floats: Self.values(binary.right, ties: binary.ties)(n, UInt64(c * 1000 + n + 7)))
                    let result = binary.op(floatTensor(a, device: device), floatTensor(b, device: device))
                    assertClose(result, RefArray.zip(a, b, binary.ref), binary.tolerance, "\(binary.name) on [\(n)]")
                }
            }
        }
    }

    func testBinaryOpsOnStridedLayouts() {
        forEachDevice { device in
            for (c, binary) in Self.binaryCases.enumerated() {
                for shape in Self.stridedShapes {
                    let lefts = layoutVariants(shape, device: device, seed: UInt64(c * 10), values: Self.values(binary.left, ties: binary.ties))
                    let rights = layoutVariants(shape, device: device, seed: UInt64(c * 10 + 5), values: Self.values(binary.right, ties: binary.ties))
                    // Each layout against a contiguous operand on both sides, and strided with strided.
                    var pairs: [(Operand, Operand)] = []
                    for left in lefts { pairs.append((left, rights[0])) }
                    for right in rights.dropFirst() { pairs.append((lefts[0], right)) }
                    for (left, right) in zip(lefts.dropFirst(), rights.dropFirst().reversed()) { pairs.append((left, right)) }
                    for (left, right) in pairs {
                        assertClose(binary.op(left.tensor, right.tensor), RefArray.zip(left.ref, right.ref, binary.ref),
                                    binary.tolerance, "\(left.name) \(binary.name) \(right.name) \(shape)")
                    }
                }
            }
        }
    }

    func testBinaryOpsWithScalarsOnEitherSide() {
        forEachDevice { device in
            for operand in layoutVariants([17, 33], device: device, seed: 77, values: Self.values(0.5...4)) {
                let x = operand.tensor, r = operand.ref
                let tol = elementwiseTolerance
                let name = operand.name
                assertClose(x + Float(1.5), r.map { $0 + 1.5 }, tol, "\(name) + Float")
                assertClose(Float(1.5) + x, r.map { 1.5 + $0 }, tol, "Float + \(name)")
                assertClose(x - 2.25, r.map { $0 - 2.25 }, tol, "\(name) - Double")
                assertClose(2.25 - x, r.map { 2.25 - $0 }, tol, "Double - \(name)")
                assertClose(x * 3, r.map { $0 * 3 }, tol, "\(name) * Int")
                assertClose(3 * x, r.map { 3 * $0 }, tol, "Int * \(name)")
                assertClose(x / Float(4), r.map { $0 / 4 }, tol, "\(name) / Float")
                assertClose(Float(4) / x, r.map { 4 / $0 }, tol, "Float / \(name)")
                assertClose(x.pow(Float(2)), r.map { $0 * $0 }, transcendentalTolerance, "\(name).pow(Float 2)")
                assertClose(x.pow(3), r.map { $0 * $0 * $0 }, transcendentalTolerance, "\(name).pow(Int 3)")
                assertClose(x.pow(Float(0.5)), r.map { $0.squareRoot() }, transcendentalTolerance, "\(name).pow(0.5)")
                assertClose(x.maximum(Float(2)), r.map { Swift.max($0, 2) }, tol, "\(name).maximum(2)")
                assertClose(x.minimum(2), r.map { Swift.min($0, 2) }, tol, "\(name).minimum(Int 2)")
                XCTAssertEqual((x + 1).dtype, .float32, "[\(device)] float tensor + Int stays float32")
            }
        }
    }

    func testBinaryOpsOnSpecialValues() {
        let nan = Float.nan, inf = Float.infinity
        forEachDevice { device in
            let a = Tensor([1, nan, 3, -inf, 0, 2] as [Float], device: device)
            let b = Tensor([nan, 2, 1, 5, 0, inf] as [Float], device: device)
            assertExact(a.maximum(b), RefArray(shape: [6], data: [.nan, .nan, 3, 5, 0, .infinity]), "maximum (NaN wins)")
            assertExact(a.minimum(b), RefArray(shape: [6], data: [.nan, .nan, 1, -.infinity, 0, 2]), "minimum (NaN wins)")
            assertExact(a / b, RefArray(shape: [6], data: [.nan, .nan, 3, -.infinity, .nan, 0]), "division by 0, inf, nan")
            let ones = Tensor([1, 1, 1] as [Float], device: device)
            assertExact(ones / Tensor([0, -0.0, inf] as [Float], device: device),
                        RefArray(shape: [3], data: [.infinity, -.infinity, 0]), "1 / (0, -0, inf)")
            assertClose(Tensor([2, 0, 4, 0] as [Float], device: device).pow(Tensor([-1, 0, 0.5, 2] as [Float], device: device)),
                        RefArray(shape: [4], data: [0.5, 1, 2, 0]), transcendentalTolerance, "pow edge cases (0^0 = 1)")
        }
    }

    // MARK: Clamp

    func testClamp() {
        forEachDevice { device in
            for operand in layoutVariants([17, 33], device: device, seed: 5, values: Self.values(-2...2)) {
                assertExact(operand.tensor.clamp(min: -0.5, max: 0.5), operand.ref.map { Swift.min(Swift.max($0, -0.5), 0.5) },
                            dtype: .float32, "clamp(-0.5, 0.5) on \(operand.name)")
                assertExact(operand.tensor.clamp(min: 0), operand.ref.map { Swift.max($0, 0) }, "clamp(min: 0) on \(operand.name)")
                assertExact(operand.tensor.clamp(max: 0.25), operand.ref.map { Swift.min($0, 0.25) }, "clamp(max: 0.25) on \(operand.name)")
            }
            let ints = Tensor([-7, -3, 0, 2, 4, 9] as [Int32], device: device)
            assertExact(ints.clamp(min: -3, max: 4), RefArray(shape: [6], data: [-3, -3, 0, 2, 4, 4]), dtype: .int32, "int32 clamp")
        }
    }

    // MARK: Comparisons and where

    func testComparisons() {
        typealias Comparison = (String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Bool)
        let comparisons: [Comparison] = [
            (".==", { $0 .== $1 }, { $0 == $1 }), (".!=", { $0 .!= $1 }, { $0 != $1 }),
            (".<", { $0 .< $1 }, { $0 < $1 }), (".<=", { $0 .<= $1 }, { $0 <= $1 }),
            (".>", { $0 .> $1 }, { $0 > $1 }), (".>=", { $0 .>= $1 }, { $0 >= $1 }),
        ]
        forEachDevice { device in
            for kind in [OperandKind.float, .int] {
                for shape in [[17, 33], [3, 5, 7], [65537]] {
                    let lefts = layoutVariants(shape, device: device, seed: 11, kind: kind) { tieFloats($0, seed: $1) }
                    let rights = layoutVariants(shape, device: device, seed: 12, kind: kind) { tieFloats($0, seed: $1) }
                    for (left, right) in zip(lefts, rights.reversed()) {
                        for (name, op, ref) in comparisons {
                            assertExact(op(left.tensor, right.tensor), RefArray.zip(left.ref, right.ref) { ref($0, $1) ? 1 : 0 },
                                        dtype: .bool, "\(kind) \(left.name) \(name) \(right.name) \(shape)")
                        }
                    }
                }
            }
            let x = Tensor([0, 1, 2, 3] as [Float], device: device)
            assertExact(x .< 2, RefArray(shape: [4], data: [1, 1, 0, 0]), dtype: .bool, "float .< Int scalar")
            assertExact(x .>= Float(1.5), RefArray(shape: [4], data: [0, 0, 1, 1]), dtype: .bool, "float .>= Float scalar")
            assertExact(x .== 3, RefArray(shape: [4], data: [0, 0, 0, 1]), dtype: .bool, "float .== Int scalar")
            assertExact(Tensor([1, 2, 3] as [Int32], device: device) .!= 2, RefArray(shape: [3], data: [1, 0, 1]),
                        dtype: .bool, "int .!= Int scalar")
            assertExact(Tensor([1, 2, 3] as [Int32], device: device) .> Float(1.5), RefArray(shape: [3], data: [0, 1, 1]),
                        dtype: .bool, "int .> Float scalar (promoted)")
            let nan = Tensor([Float.nan, 1] as [Float], device: device)
            assertExact(nan .== nan, RefArray(shape: [2], data: [0, 1]), "NaN .== NaN is false")
            assertExact(nan .!= nan, RefArray(shape: [2], data: [1, 0]), "NaN .!= NaN is true")
            assertExact(nan .< Float(5), RefArray(shape: [2], data: [0, 1]), "NaN .< 5 is false")
        }
    }

    func testWhere() {
        forEachDevice { device in
            let conditions = layoutVariants([17, 33], device: device, seed: 21) { tieFloats($0, levels: 2, seed: $1) }
            let lefts = layoutVariants([17, 33], device: device, seed: 22, values: Self.values(-5...5))
            let rights = layoutVariants([17, 33], device: device, seed: 23, values: Self.values(-5...5))
            for (i, condition) in conditions.enumerated() {
                let mask = condition.tensor .== 1
                let left = lefts[i], right = rights[(i + 1) % rights.count]
                let expected = RefArray.generate([17, 33]) { c in condition.ref[c] == 1 ? left.ref[c] : right.ref[c] }
                assertExact(Tensor.where(mask, left.tensor, right.tensor), expected, dtype: .float32,
                            "where(\(condition.name), \(left.name), \(right.name))")
            }
            // Broadcasting all three: [17, 1], [33], 0-d.
            let column = RefArray(shape: [17, 1], floats: tieFloats(17, levels: 2, seed: 3))
            let row = RefArray(shape: [33], floats: randomFloats(33, seed: 4))
            let mask = floatTensor(column, device: device) .> 0
            let result = Tensor.where(mask, floatTensor(row, device: device), Tensor(Float(-9), device: device))
            assertExact(result, RefArray.generate([17, 33]) { c in column[[c[0], 0]] > 0 ? row[[c[1]]] : -9 },
                        "where broadcasting [17,1], [33], 0-d")
            // dtypes: int32 with int32 stays int32, int32 with float32 gives float32.
            let cond = Tensor([true, false, true], device: device)
            let ints = Tensor.where(cond, Tensor([1, 2, 3] as [Int32], device: device), Tensor([-1, -2, -3] as [Int32], device: device))
            assertExact(ints, RefArray(shape: [3], data: [1, -2, 3]), dtype: .int32, "where int32")
            let mixed = Tensor.where(cond, Tensor([1, 2, 3] as [Int32], device: device), Tensor([0.5, 0.5, 0.5] as [Float], device: device))
            assertExact(mixed, RefArray(shape: [3], data: [1, 0.5, 3]), dtype: .float32, "where int32/float32")
        }
    }

    // MARK: Casts

    func testCastsBetweenDTypes() {
        let floats: [Float] = [-2.7, -0.5, 0, -0.0, 0.5, 2.7, 1e9, 3e9, -3e9, .nan, .infinity, -.infinity, -2_147_483_648, 16_777_218]
        let truncated: [Double] = [-2, 0, 0, 0, 0, 2, 1e9, 2_147_483_647, -2_147_483_648, 0, 2_147_483_647, -2_147_483_648,
                                   -2_147_483_648, 16_777_218]
        let asBool: [Double] = [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        forEachDevice { device in
            let x = Tensor(floats, device: device)
            assertExact(x.cast(.int32), RefArray(shape: [floats.count], data: truncated), dtype: .int32,
                        "float32 -> int32 (truncate, saturate, NaN -> 0)")
            assertExact(x.cast(.bool), RefArray(shape: [floats.count], data: asBool), dtype: .bool, "float32 -> bool")
            let ints = Tensor([-5, 0, 7, 16_777_217, Int32.max, Int32.min] as [Int32], device: device)
            assertExact(ints.cast(.float32), RefArray(shape: [6], data: [-5, 0, 7, 16_777_216, 2_147_483_648, -2_147_483_648]),
                        dtype: .float32, "int32 -> float32 (round to nearest)")
            assertExact(ints.cast(.bool), RefArray(shape: [6], data: [1, 0, 1, 1, 1, 1]), dtype: .bool, "int32 -> bool")
            let bools = Tensor([true, false, true], device: device)
            assertExact(bools.cast(.float32), RefArray(shape: [3], data: [1, 0, 1]), dtype: .float32, "bool -> float32")
            assertExact(bools.cast(.int32), RefArray(shape: [3], data: [1, 0, 1]), dtype: .int32, "bool -> int32")
            assertExact(bools.cast(.int32).cast(.bool), RefArray(shape: [3], data: [1, 0, 1]), dtype: .bool, "bool -> int32 -> bool")
            // Strided inputs.
            for operand in layoutVariants([17, 33], device: device, seed: 31, values: Self.values(-100...100)) {
                assertExact(operand.tensor.cast(.int32), operand.ref.map { $0.rounded(.towardZero) },
                            dtype: .int32, "cast \(operand.name) to int32")
                assertExact(operand.tensor.cast(.int32).cast(.float32), operand.ref.map { $0.rounded(.towardZero) },
                            dtype: .float32, "cast \(operand.name) to int32 and back")
                assertExact((operand.tensor .> 0).cast(.float32), operand.ref.map { $0 > 0 ? 1 : 0 }, dtype: .float32,
                            "mask of \(operand.name) to float32")
            }
        }
    }

    /// The largest float32 below 2^31 (2147483520) is representable in int32: a cast must keep it.
    func testCastOfLargestFloatBelowTwoToThe31() {
        forEachDevice { device in
            let x = Tensor([2_147_483_520, -2_147_483_520] as [Float], device: device)
            assertExact(x.cast(.int32), RefArray(shape: [2], data: [2_147_483_520, -2_147_483_520]), dtype: .int32,
                        "float32 2147483520 -> int32 (in range, must not saturate)")
        }
    }

    // MARK: int32 arithmetic

    func testInt32Arithmetic() {
        typealias IntOp = (String, (Tensor, Tensor) -> Tensor, (Int32, Int32) -> Int32)
        let ops: [IntOp] = [
            ("+", { $0 + $1 }, { $0 &+ $1 }), ("-", { $0 - $1 }, { $0 &- $1 }), ("*", { $0 * $1 }, { $0 &* $1 }),
            ("floorDivide", { $0.floorDivide($1) }, { x, y in
                guard y != 0 else { return 0 }
                let q = x.dividedReportingOverflow(by: y).partialValue
                return x % y != 0 && (x < 0) != (y < 0) ? q - 1 : q
            }),
            ("maximum", { $0.maximum($1) }, { Swift.max($0, $1) }), ("minimum", { $0.minimum($1) }, { Swift.min($0, $1) }),
        ]
        forEachDevice { device in
            for shape in [[17, 33], [3, 5, 7], [1000]] {
                let lefts = layoutVariants(shape, device: device, seed: 41, kind: .int) { n, s in
                    randomInts(n, in: -100_000...100_000, seed: s).map(Float.init)
                }
                let rights = layoutVariants(shape, device: device, seed: 42, kind: .int) { n, s in
                    randomInts(n, in: -50...50, seed: s).map(Float.init)   // includes 0: x / 0 is defined as 0
                }
                for (left, right) in zip(lefts, rights.reversed()) {
                    for (name, op, ref) in ops {
                        let expected = RefArray.zip(left.ref, right.ref) { Double(ref(Int32($0), Int32($1))) }
                        assertExact(op(left.tensor, right.tensor), expected, dtype: .int32, "int32 \(left.name) \(name) \(right.name)")
                    }
                }
                for operand in lefts {
                    let r = operand.ref, x = operand.tensor
                    assertExact(-x, r.map { -$0 }, dtype: .int32, "int32 neg \(operand.name)")
                    assertExact(x.abs(), r.map { Swift.abs($0) }, dtype: .int32, "int32 abs \(operand.name)")
                    assertExact(x.relu(), r.map { Swift.max($0, 0) }, dtype: .int32, "int32 relu \(operand.name)")
                    assertExact(x.square(), r.map { Double(Int32($0) &* Int32($0)) }, dtype: .int32, "int32 square (wraps) \(operand.name)")
                    assertExact(x + 1, r.map { $0 + 1 }, dtype: .int32, "int32 + Int \(operand.name)")
                    assertExact(x.floorDivide(7), r.map { ($0 / 7).rounded(.down) }, dtype: .int32, "int32 floorDivide Int \(operand.name)")
                    assertExact(x * Float(0.5), r.map { $0 * 0.5 }, dtype: .float32, "int32 * Float promotes \(operand.name)")
                }
            }
            let small = Tensor([-3, -2, 2, 3, 5] as [Int32], device: device)
            assertExact(small.pow(Tensor([3, 2, 0, 4, 1] as [Int32], device: device)), RefArray(shape: [5], data: [-27, 4, 1, 81, 5]),
                        dtype: .int32, "int32 pow")
            // Exact by squaring on both backends: wraps past 2^31 (3^21), negative exponents truncate.
            assertExact(Tensor([3, 2, 1, -1, 3, -2] as [Int32], device: device).pow(Tensor([21, -1, -5, -3, 0, 31] as [Int32], device: device)),
                        RefArray(shape: [6], data: [1_870_418_611, 0, 1, -1, 1, -2_147_483_648]), dtype: .int32, "int32 pow wraps and truncates")
            // True division: int32 / int32 gives float32, as PyTorch's `/`.
            let quotient = Tensor([7, -7, 1, 0] as [Int32], device: device) / Tensor([2, 2, 4, 5] as [Int32], device: device)
            assertExact(quotient, RefArray(shape: [4], data: [3.5, -3.5, 0.25, 0]), dtype: .float32, "int32 / int32 is true division")
            assertExact(Tensor([7, -7] as [Int32], device: device) / 2, RefArray(shape: [2], data: [3.5, -3.5]), dtype: .float32,
                        "int32 / Int is true division")
            assertExact(Tensor([7.5, -7.5] as [Float], device: device).floorDivide(2), RefArray(shape: [2], data: [3, -4]),
                        dtype: .float32, "float32 floorDivide")
            let edges = Tensor([Int32.max, Int32.min, -7, 7, Int32.min] as [Int32], device: device)
            let by = Tensor([1, -1, 2, -2, 0] as [Int32], device: device)
            assertExact(edges + by, RefArray(shape: [5], data: [-2_147_483_648, 2_147_483_647, -5, 5, -2_147_483_648]),
                        dtype: .int32, "int32 + wraps")
            assertExact(edges.floorDivide(by), RefArray(shape: [5], data: [2_147_483_647, -2_147_483_648, -4, -4, 0]),
                        dtype: .int32, "int32 floorDivide rounds down, MIN / -1 wraps, x / 0 = 0")
            assertExact(-Tensor([Int32.min] as [Int32], device: device), RefArray(shape: [1], data: [-2_147_483_648]),
                        dtype: .int32, "-Int32.min wraps")
        }
    }
}
