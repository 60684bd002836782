import Foundation
import XCTest
@testable import Tessel

/// Creation functions, the random stream (same numbers on every device), and printing.
final class CreationConformanceTests: XCTestCase {
    func testLiteralsAndFilledTensors() {
        forEachDevice { device in
            let nested = Tensor([[1, 2], [3, 4]] as [[Float]], device: device)
            assertExact(nested, RefArray(shape: [2, 2], data: [1, 2, 3, 4]), dtype: .float32, "nested Float literal")
            assertExact(Tensor([[[1, 2]], [[3, 4]]] as [[[Int]]], device: device), RefArray(shape: [2, 1, 2], data: [1, 2, 3, 4]),
                        dtype: .int32, "nested Int literal is int32")
            assertExact(Tensor([[0.5, 1.5]] as [[Double]], device: device), RefArray(shape: [1, 2], data: [0.5, 1.5]),
                        dtype: .float32, "nested Double literal is float32")
            assertExact(Tensor([[true, false]], device: device), RefArray(shape: [1, 2], data: [1, 0]), dtype: .bool, "Bool literal")
            assertExact(Tensor(Float(2.5), device: device), RefArray(shape: [], data: [2.5]), dtype: .float32, "0-d Float")
            assertExact(Tensor(7, device: device), RefArray(shape: [], data: [7]), dtype: .int32, "0-d Int is int32")
            XCTAssertEqual(nested.device, device)
            assertExact(try! Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2], device: device),
                        RefArray(shape: [3, 2], data: [1, 2, 3, 4, 5, 6]), "Tensor(_:shape:)")
            assertExact(try! Tensor([] as [Float], shape: [0, 4], device: device), RefArray(shape: [0, 4], data: []), "empty Tensor(_:shape:)")

            for dtype in DType.allCases {
                assertExact(Tensor.zeros([2, 3], dtype: dtype, device: device), RefArray(shape: [2, 3], data: [Double](repeating: 0, count: 6)),
                            dtype: dtype, "zeros \(dtype)")
                assertExact(Tensor.ones([3, 1], dtype: dtype, device: device), RefArray(shape: [3, 1], data: [1, 1, 1]), dtype: dtype, "ones \(dtype)")
            }
            assertExact(Tensor.zeros([1000, 17], device: device), RefArray(shape: [1000, 17], data: [Double](repeating: 0, count: 17_000)),
                        "zeros of 17000")
            assertExact(Tensor.full([2, 2], 7.5, device: device), RefArray(shape: [2, 2], data: [7.5, 7.5, 7.5, 7.5]), dtype: .float32, "full")
            assertExact(Tensor.full([3], -7.9, dtype: .int32, device: device), RefArray(shape: [3], data: [-7, -7, -7]), dtype: .int32,
                        "full int32 truncates")
            assertExact(Tensor.full([2], 0.5, dtype: .bool, device: device), RefArray(shape: [2], data: [1, 1]), dtype: .bool, "full bool")
            assertExact(Tensor.full([], 3, device: device), RefArray(shape: [], data: [3]), "full 0-d")
            XCTAssertEqual(Tensor.ones([0, 5], device: device).shape, [0, 5])
        }
    }

    func testCopyScalarsIntoAHostBuffer() {
        forEachDevice { device in
            let x = Tensor([[1, 2, 3], [4, 5, 6]] as [[Float]], device: device)
            var floats = [Float](repeating: -1, count: 7)
            floats.withUnsafeMutableBufferPointer { x.T.copyScalars(into: $0) }
            XCTAssertEqual(floats, [1, 4, 2, 5, 3, 6, -1], "[\(device)] a transposed view, row-major, the rest untouched")
            var ints = [Int32](repeating: 0, count: 6)
            ints.withUnsafeMutableBufferPointer { x.copyScalars(into: $0) }
            XCTAssertEqual(ints, [1, 2, 3, 4, 5, 6], "[\(device)] converted to int32")
            var flags = [Bool](repeating: false, count: 2)
            flags.withUnsafeMutableBufferPointer { Tensor([0, 3] as [Float], device: device).copyScalars(into: $0) }
            XCTAssertEqual(flags, [false, true], "[\(device)] converted to bool")
        }
    }

    func testElementCountMismatchThrows() {
        forEachDevice { device in
            do {
                _ = try Tensor([1, 2, 3] as [Float], shape: [2, 2], device: device)
                XCTFail("[\(device)] 3 values for shape [2, 2] did not throw")
            } catch {
                XCTAssertEqual(error as? TesselError, .elementCountMismatch(expected: 4, got: 3, shape: [2, 2]), "[\(device)]")
            }
            do {
                _ = try Tensor([1, 2, 3, 4, 5] as [Int32], shape: [2, 2], device: device)
                XCTFail("[\(device)] 5 values for shape [2, 2] did not throw")
            } catch {
                XCTAssertEqual(error as? TesselError, .elementCountMismatch(expected: 4, got: 5, shape: [2, 2]), "[\(device)]")
            }
            do {
                _ = try Tensor([1, 2, 3] as [Float], shape: [-1, -3], device: device)
                XCTFail("[\(device)] negative shape did not throw")
            } catch {
                XCTAssertEqual(error as? TesselError, .elementCountMismatch(expected: 3, got: 3, shape: [-1, -3]), "[\(device)]")
            }
        }
    }

    func testEyeAndArange() {
        forEachDevice { device in
            assertExact(Tensor.eye(3, device: device), RefArray(shape: [3, 3], data: [1, 0, 0, 0, 1, 0, 0, 0, 1]), dtype: .float32, "eye(3)")
            assertExact(Tensor.eye(2, 4, device: device), RefArray(shape: [2, 4], data: [1, 0, 0, 0, 0, 1, 0, 0]), "eye(2, 4)")
            assertExact(Tensor.eye(3, 2, device: device), RefArray(shape: [3, 2], data: [1, 0, 0, 1, 0, 0]), "eye(3, 2)")
            assertExact(Tensor.eye(2, dtype: .int32, device: device), RefArray(shape: [2, 2], data: [1, 0, 0, 1]), dtype: .int32, "eye int32")
            assertExact(Tensor.eye(2, dtype: .bool, device: device), RefArray(shape: [2, 2], data: [1, 0, 0, 1]), dtype: .bool, "eye bool")
            assertExact(Tensor.arange(0, 5, device: device), RefArray(shape: [5], data: [0, 1, 2, 3, 4]), dtype: .int32, "arange(5)")
            assertExact(Tensor.arange(2, 10, step: 3, device: device), RefArray(shape: [3], data: [2, 5, 8]), dtype: .int32, "arange(2, 10, 3)")
            assertExact(Tensor.arange(10, 0, step: -3, device: device), RefArray(shape: [4], data: [10, 7, 4, 1]), dtype: .int32,
                        "arange(10, 0, -3)")
            assertExact(Tensor.arange(3, 3, device: device), RefArray(shape: [0], data: []), dtype: .int32, "empty arange")
            assertExact(Tensor.arange(Float(0), Float(1), step: 0.25, device: device), RefArray(shape: [4], data: [0, 0.25, 0.5, 0.75]),
                        dtype: .float32, "float arange(0, 1, 0.25)")
            assertClose(Tensor.arange(Float(1), Float(2), step: 0.3, device: device),
                        RefArray(shape: [4], data: [1, 1.3, 1.6, 1.9]), elementwiseTolerance, "float arange(1, 2, 0.3)")
            assertExact(Tensor.arange(Float(-1), Float(-2.5), step: -0.5, device: device), RefArray(shape: [3], data: [-1, -1.5, -2]),
                        "float arange with a negative step")
            assertExact(Tensor.arange(0, 100_000, device: device).sum(), RefArray(shape: [], data: [4_999_950_000 - 4_294_967_296]),
                        dtype: .int32, "int32 sum of arange(100000) wraps like int32")
        }
    }

    // MARK: Random

    func testRandomNumbersAreTheSameOnEveryDevice() {
        var perDevice: [(Device, [Float], [Float], [Int32])] = []
        for device in conformanceDevices() {
            Tensor.manualSeed(1234)
            let u = Tensor.rand([1000], device: device).toArray()
            let n = Tensor.randn([3, 7], device: device).toArray()
            let i = Tensor.randint(-3, 5, [17], device: device).scalars(as: Int32.self)
            perDevice.append((device, u, n, i))
        }
        let (_, u0, n0, i0) = perDevice[0]
        for (device, u, n, i) in perDevice.dropFirst() {
            XCTAssertEqual(u, u0, "rand on \(device) differs from cpu")
            XCTAssertEqual(n, n0, "randn on \(device) differs from cpu")
            XCTAssertEqual(i, i0, "randint on \(device) differs from cpu")
        }
        // The same seed repeats the stream; another seed does not.
        Tensor.manualSeed(1234)
        XCTAssertEqual(Tensor.rand([1000], device: .cpu).toArray(), u0, "manualSeed repeats rand")
        Tensor.manualSeed(99)
        XCTAssertNotEqual(Tensor.rand([1000], device: .cpu).toArray(), u0, "another seed gives other numbers")
        XCTAssertEqual(Set(u0).count, 1000, "1000 distinct uniform samples")
    }

    func testRandomDistributions() {
        forEachDevice { device in
            Tensor.manualSeed(7)
            let u = Tensor.rand([100_000], device: device)
            XCTAssertEqual(u.shape, [100_000])
            let uv = u.toArray()
            XCTAssertTrue(uv.allSatisfy { $0 >= 0 && $0 < 1 }, "[\(device)] rand in [0, 1)")
            XCTAssertEqual(Double(u.mean().item()), 0.5, accuracy: 0.01, "[\(device)] rand mean")

            let n = Tensor.randn([100, 1000], device: device)
            let values = n.toArray().map(Double.init)
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 0.02, "[\(device)] randn mean over 100k")
            XCTAssertEqual(std, 1, accuracy: 0.02, "[\(device)] randn std over 100k")
            XCTAssertEqual(Double(n.mean().item()), mean, accuracy: 1e-4, "[\(device)] randn mean via Tessel")
            let tail = Double(values.filter { Swift.abs($0) > 1.96 }.count) / Double(values.count)
            XCTAssertEqual(tail, 0.05, accuracy: 0.005, "[\(device)] randn |x| > 1.96 about 5%")

            let r = Tensor.randint(-3, 5, [10_000], device: device)
            XCTAssertEqual(r.dtype, .int32)
            let ints = r.scalars(as: Int32.self)
            XCTAssertTrue(ints.allSatisfy { $0 >= -3 && $0 < 5 }, "[\(device)] randint in [-3, 5)")
            XCTAssertEqual(Set(ints), Set((-3..<5).map { Int32($0) }), "[\(device)] randint hits every value")
            let big = Tensor.randint(0, 2_000_000_000, [1000], device: device).scalars(as: Int32.self)
            XCTAssertTrue(big.allSatisfy { $0 >= 0 && $0 < 2_000_000_000 }, "[\(device)] randint wide range")
            XCTAssertTrue(Tensor.randint(5, 6, [50], device: device).scalars(as: Int32.self).allSatisfy { $0 == 5 },
                          "[\(device)] randint(5, 6) is always 5")
        }
    }

    // MARK: Printing

    func testDescription() {
        forEachDevice { device in
            let suffix = device == .cpu ? "" : ", device: \(device)"
            XCTAssertEqual(Tensor([[1, 2], [3, 4]] as [[Float]], device: device).description,
                           "tensor([[1., 2.],\n        [3., 4.]]\(suffix))")
            XCTAssertEqual(Tensor([[1.5, 2.25], [3, 4]] as [[Float]], device: device).description,
                           "tensor([[1.5000, 2.2500],\n        [3.0000, 4.0000]]\(suffix))")
            XCTAssertEqual(Tensor(Float(3.5), device: device).description, "tensor(3.5000\(suffix))")
            XCTAssertEqual(Tensor([1e-5, 1] as [Float], device: device).description, "tensor([1.0000e-05, 1.0000e+00]\(suffix))")
            XCTAssertEqual(Tensor([1, .nan, .infinity] as [Float], device: device).description, "tensor([1., nan, inf]\(suffix))")
            let cube = try! Tensor((0..<8).map { Float($0) }, shape: [2, 2, 2], device: device)
            XCTAssertEqual(cube.description,
                           "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]]\(suffix))")
            XCTAssertEqual(cube.permute(2, 1, 0)[0].description, "tensor([[0., 4.],\n        [2., 6.]]\(suffix))",
                           "[\(device)] description of a strided view")
            XCTAssertEqual(Tensor([1, 2, 3] as [Int32], device: device).description, "tensor([1, 2, 3]\(suffix), dtype: int32)")
            // int32 values print exactly (not through float32, which rounds 16777217 to 16777216).
            XCTAssertEqual(Tensor([16_777_217, -2_000_000_001] as [Int32], device: device).description,
                           "tensor([16777217, -2000000001]\(suffix), dtype: int32)")
            XCTAssertEqual(Tensor([true, false], device: device).description, "tensor([true, false]\(suffix), dtype: bool)")
            XCTAssertEqual(Tensor.zeros([0, 3], device: device).description, "tensor([]\(suffix), shape: [0, 3])")

            // Elided: more than 1000 elements show three entries each side of "...".
            let long = Tensor.arange(Float(0), Float(2000), device: device)
            XCTAssertEqual(long.description, "tensor([0., 1., 2., ..., 1997., 1998., 1999.]\(suffix))")
            let matrix = try! Tensor((0..<1600).map { Float($0) }, shape: [40, 40], device: device)
            let lines = matrix.description.components(separatedBy: "\n")
            XCTAssertEqual(lines.count, 7, "[\(device)] [40, 40] prints 3 rows, ..., 3 rows")
            XCTAssertEqual(lines.first, "tensor([[0., 1., 2., ..., 37., 38., 39.],")
            XCTAssertEqual(lines[3], "        ...,")
            XCTAssertEqual(lines.last, "        [1560., 1561., 1562., ..., 1597., 1598., 1599.]]\(suffix))")
            // 1000 elements exactly are printed in full.
            XCTAssertFalse(Tensor.zeros([1000], device: device).description.contains("..."), "[\(device)] 1000 elements not elided")
        }
    }
}
