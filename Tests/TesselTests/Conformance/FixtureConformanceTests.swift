import Foundation
import XCTest
@testable import Tessel

/// Every device against NumPy results stored in `Tests/Fixtures/conformance.json` (written by
/// `Tests/Fixtures/make_fixtures.py`); the Swift reference `RefArray` is checked against the same
/// numbers, so a mistake in the hand-written reference cannot hide a backend bug.
final class FixtureConformanceTests: XCTestCase {
    struct Unary: Decodable {
        let x, positive, exp, sin, cos, tanh, sigmoid, abs, relu, square, log, sqrt: FixtureArray
        let pow_x_half, pow_x_minus_1_5: FixtureArray
    }
    struct BroadcastCase: Decodable { let a, b, add, sub, mul, div, maximum, less: FixtureArray }
    struct AxesCase: Decodable {
        let axes: [Int]?
        let sum, mean, max, min: FixtureArray
    }
    struct Reduce: Decodable {
        let ties, x: FixtureArray
        let axes: [AxesCase]
        let argmax_ties, argmin_ties: [FixtureArray]
        let argmax_ties_flat, argmin_ties_flat: Int
    }
    struct Softmax: Decodable { let x, logsumexp, log_softmax, softmax: FixtureArray }
    struct Matmul: Decodable { let a, b, out: FixtureArray }
    struct Gather: Decodable { let x, index, out: FixtureArray }
    struct IntCase: Decodable { let a, b, div, floats, cast: FixtureArray }
    struct File: Decodable {
        let unary: Unary
        let broadcast: [BroadcastCase]
        let reduce: Reduce
        let softmax: Softmax
        let matmul: [Matmul]
        let gather: Gather
        let int32: IntCase
    }

    private func fixtures() throws -> File { try loadFixture("conformance.json", as: File.self) }

    func testUnaryAgainstNumPy() throws {
        let f = try fixtures().unary
        let pairs: [(String, FixtureArray, FixtureArray, (Tensor) -> Tensor, Tolerance)] = [
            ("exp", f.x, f.exp, { $0.exp() }, transcendentalTolerance),
            ("sin", f.x, f.sin, { $0.sin() }, transcendentalTolerance),
            ("cos", f.x, f.cos, { $0.cos() }, transcendentalTolerance),
            ("tanh", f.x, f.tanh, { $0.tanh() }, transcendentalTolerance),
            ("sigmoid", f.x, f.sigmoid, { $0.sigmoid() }, transcendentalTolerance),
            ("abs", f.x, f.abs, { $0.abs() }, elementwiseTolerance),
            ("relu", f.x, f.relu, { $0.relu() }, elementwiseTolerance),
            ("square", f.x, f.square, { $0.square() }, elementwiseTolerance),
            ("log", f.positive, f.log, { $0.log() }, transcendentalTolerance),
            ("sqrt", f.positive, f.sqrt, { $0.sqrt() }, elementwiseTolerance),
            ("pow 0.5", f.positive, f.pow_x_half, { $0.pow(Float(0.5)) }, transcendentalTolerance),
            ("pow -1.5", f.positive, f.pow_x_minus_1_5, { $0.pow(Float(-1.5)) }, transcendentalTolerance),
        ]
        // The Swift reference agrees with NumPy (float64) on the same inputs.
        assertArraysClose(f.x.ref.map { Foundation.exp($0) }.data, f.exp.values.map { $0 }, accuracy: 1e-9)
        forEachDevice { device in
            for (name, input, expected, op, tolerance) in pairs {
                assertClose(op(floatTensor(input.ref, device: device)), expected.ref, tolerance, "NumPy \(name)")
            }
        }
    }

    func testBroadcastAgainstNumPy() throws {
        let cases = try fixtures().broadcast
        for c in cases {
            XCTAssertEqual(RefArray.zip(c.a.ref, c.b.ref, +).shape, c.add.shape, "reference broadcast shape \(c.a.shape) \(c.b.shape)")
        }
        forEachDevice { device in
            for c in cases {
                let a = floatTensor(c.a.ref, device: device), b = floatTensor(c.b.ref, device: device)
                let label = "NumPy \(c.a.shape) op \(c.b.shape)"
                assertClose(a + b, c.add.ref, elementwiseTolerance, "\(label) +")
                assertClose(a - b, c.sub.ref, elementwiseTolerance, "\(label) -")
                assertClose(a * b, c.mul.ref, elementwiseTolerance, "\(label) *")
                assertClose(a / b, c.div.ref, elementwiseTolerance, "\(label) /")
                assertClose(a.maximum(b), c.maximum.ref, elementwiseTolerance, "\(label) maximum")
                assertExact(a .< b, c.less.ref, dtype: .bool, "\(label) .<")
            }
        }
    }

    func testReductionsAgainstNumPy() throws {
        let f = try fixtures().reduce
        for c in f.axes {
            let reference = f.x.ref.reduce(.sum, axes: c.axes)
            XCTAssertEqual(reference.shape, c.sum.shape, "reference sum shape for axes \(String(describing: c.axes))")
            assertArraysClose(reference.data, c.sum.values, accuracy: 1e-9)
        }
        forEachDevice { device in
            let x = floatTensor(f.x.ref, device: device)
            let transposed = floatTensor(f.x.ref.permuted([2, 1, 0]), device: device).permute(2, 1, 0)   // same values, strided
            for (name, input) in [("contiguous", x), ("strided", transposed)] {
                for c in f.axes {
                    let label = "NumPy \(name) axes \(c.axes.map { "\($0)" } ?? "all")"
                    let magnitude = f.x.ref.reduce(.sumOfMagnitudes, axes: c.axes)
                    assertReduced(input.sum(axes: c.axes), c.sum.ref, magnitude: magnitude, "sum \(label)")
                    assertReduced(input.mean(axes: c.axes), c.mean.ref,
                                  magnitude: magnitude.map { $0 / Double(f.x.ref.count / Swift.max(magnitude.count, 1)) }, "mean \(label)")
                    assertExact(input.max(axes: c.axes), c.max.ref, "max \(label)")
                    assertExact(input.min(axes: c.axes), c.min.ref, "min \(label)")
                }
            }
            let ties = floatTensor(f.ties.ref, device: device)
            for axis in 0..<3 {
                assertExact(ties.argmax(axis: axis), f.argmax_ties[axis].ref, dtype: .int32, "NumPy argmax ties axis \(axis)")
                assertExact(ties.argmin(axis: axis), f.argmin_ties[axis].ref, dtype: .int32, "NumPy argmin ties axis \(axis)")
            }
            XCTAssertEqual(ties.argmax().item(as: Int32.self), Int32(f.argmax_ties_flat), "[\(device)] NumPy flat argmax of ties")
            XCTAssertEqual(ties.argmin().item(as: Int32.self), Int32(f.argmin_ties_flat), "[\(device)] NumPy flat argmin of ties")
        }
    }

    func testSoftmaxAgainstNumPy() throws {
        let f = try fixtures().softmax
        assertArraysClose(f.x.ref.softmax(axis: 1).data, f.softmax.values, accuracy: 1e-12)
        forEachDevice { device in
            let x = floatTensor(f.x.ref, device: device)
            assertClose(x.logSumExp(axis: 1), f.logsumexp.ref, softmaxTolerance, "NumPy logSumExp")
            assertClose(x.softmax(axis: 1), f.softmax.ref, softmaxTolerance, "NumPy softmax")
            assertClose(x.logSoftmax(axis: 1), f.log_softmax.ref, logSoftmaxTolerance, "NumPy logSoftmax")
        }
    }

    func testMatmulAgainstNumPy() throws {
        let cases = try fixtures().matmul
        for c in cases { XCTAssertEqual(RefArray.matmul(c.a.ref, c.b.ref).shape, c.out.shape, "reference matmul shape") }
        forEachDevice { device in
            for c in cases {
                let k = Double(c.a.shape.last!)
                let tolerance = Tolerance(relative: gemmRelativePerSqrtK * k.squareRoot() * 10, absolute: gemmRelativePerSqrtK * k.squareRoot() * k)
                assertClose(floatTensor(c.a.ref, device: device).matmul(floatTensor(c.b.ref, device: device)), c.out.ref, tolerance,
                            "NumPy matmul \(c.a.shape) x \(c.b.shape)")
            }
        }
    }

    func testGatherAndInt32AgainstNumPy() throws {
        let file = try fixtures()
        forEachDevice { device in
            let g = file.gather
            assertExact(floatTensor(g.x.ref, device: device).gather(axis: 1, index: intTensor(g.index.ref, device: device)), g.out.ref,
                        "NumPy take_along_axis")
            let i = file.int32
            assertExact(intTensor(i.a.ref, device: device).floorDivide(intTensor(i.b.ref, device: device)), i.div.ref, dtype: .int32,
                        "int32 floorDivide (x // 0 = 0)")
            assertExact(floatTensor(i.floats.ref, device: device).cast(.int32), i.cast.ref, dtype: .int32, "float32 -> int32 truncation")
        }
    }
}

/// Element-wise closeness of two Double arrays (for checking the Swift reference against NumPy).
func assertArraysClose(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "lengths", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= accuracy * Swift.max(1, Swift.abs(y)) || (x.isNaN && y.isNaN) || x == y) {
        XCTFail("element \(i): \(x) vs \(y)", file: file, line: line)
        return
    }
}
