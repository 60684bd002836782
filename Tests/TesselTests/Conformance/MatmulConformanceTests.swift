import Foundation
import XCTest
@testable import Tessel

/// Matrix products on every device against a Double reference, with the error bound
/// `gemmRelativePerSqrtK * sqrt(k) * sum_p |a_ip * b_pj| + 1e-6` per output element.
final class MatmulConformanceTests: XCTestCase {
    /// Checks `result` against `RefArray.matmul(a, b)`, bounding each element by its magnitude.
    private func assertMatmul(_ result: Tensor, _ a: RefArray, _ b: RefArray, _ label: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let expected = RefArray.matmul(a, b)
        let magnitude = RefArray.matmul(a.map { Swift.abs($0) }, b.map { Swift.abs($0) })
        let k = a.shape.last!
        let bound = gemmRelativePerSqrtK * Double(k).squareRoot()
        let what = "[\(result.device)] matmul \(label) \(a.shape) x \(b.shape)"
        guard result.shape == expected.shape else {
            XCTFail("\(what): shape \(result.shape), expected \(expected.shape)", file: file, line: line)
            return
        }
        XCTAssertEqual(result.dtype, .float32, "\(what): dtype", file: file, line: line)
        let got = result.scalars(as: Float.self)
        var failures = 0
        for i in got.indices where !(Swift.abs(Double(got[i]) - expected.data[i]) <= bound * magnitude.data[i] + 1e-6) {
            failures += 1
            if failures <= 3 {
                XCTFail("\(what): element \(RefArray.coordinates(i, expected.shape)) got \(got[i]), expected \(expected.data[i])",
                        file: file, line: line)
            }
        }
        if failures > 3 { XCTFail("\(what): \(failures) of \(got.count) elements out of bound", file: file, line: line) }
    }

    private func random(_ shape: [Int], seed: UInt64) -> RefArray {
        RefArray(shape: shape, floats: randomFloats(shape.reduce(1, *), in: -1...1, seed: seed))
    }

    func testSquareAndOddShapes() {
        forEachDevice { device in
            // (200, 1024, 160): rows 4 KB apart and more than 128 columns per core, so the CPU
            // kernel packs A rather than reading it in place. (96, 600, 48): a one-vector last
            // panel written straight to C and accumulated over K blocks. (20, 2100, 40): K long
            // enough that the CPU-driver OpenCL GEMM adds three K slices into C. (9, 8191, 32) and
            // (70, 9000, 65): a small C over a long K, which the CPU kernel splits between cores.
            for (i, (m, k, n)) in [(1, 1, 1), (7, 13, 5), (1, 17, 1), (16, 16, 16), (33, 1, 9), (127, 129, 65), (1000, 784, 10), (1, 5000, 3), (3, 5000, 1), (9, 300, 1000), (200, 1024, 160), (96, 600, 48), (20, 2100, 40), (9, 8191, 32), (70, 9000, 65)].enumerated() {
                let a = random([m, k], seed: UInt64(i * 2)), b = random([k, n], seed: UInt64(i * 2 + 1))
                assertMatmul(floatTensor(a, device: device).matmul(floatTensor(b, device: device)), a, b, "contiguous")
            }
        }
    }

    func testTransposedAndStridedOperands() {
        forEachDevice { device in
            // (61, 700, 530) spans several K and N blocks of the CPU kernel and ragged edge tiles;
            // (9, 2100, 40) makes the CPU-driver OpenCL GEMM add K slices of a packed (transposed) A.
            // (9, 8192, 32) takes the CPU's split-K path (a convolution's weight gradient) with a
            // transposed operand.
            // (128, 784, 100) is the MLP's first layer: whole register-transposed blocks of a transposed B,
            // K blocks with rows past the last block, and a ragged last panel. With a B.T, the
            // CPU computes a few columns past the last whole panel as dot products along K: 4 of
            // them there, 7 over a ragged 13 rows and a K past its last vector in (13, 70, 39),
            // 1 in (6, 64, 33).
            for (i, (m, k, n)) in [(7, 13, 5), (127, 129, 65), (61, 700, 530), (9, 2100, 40), (9, 8192, 32), (128, 784, 100),
                                   (13, 70, 39), (6, 64, 33)].enumerated() {
                let aT = random([k, m], seed: UInt64(100 + i)), bT = random([n, k], seed: UInt64(200 + i))
                let a = aT.permuted([1, 0]), b = bT.permuted([1, 0])
                let ta = floatTensor(aT, device: device).T, tb = floatTensor(bT, device: device).T
                let ca = floatTensor(a, device: device), cb = floatTensor(b, device: device)
                assertMatmul(ta.matmul(cb), a, b, "a.T x b")
                assertMatmul(ca.matmul(tb), a, b, "a x b.T")
                assertMatmul(ta.matmul(tb), a, b, "a.T x b.T")
                // Every other row and column of bigger matrices (non-unit strides on both axes, an offset).
                let bigA = random([2 * m + 1, 2 * k], seed: UInt64(300 + i))
                let sa = floatTensor(bigA, device: device)[.stride(1..<(2 * m + 1), by: 2), .stride(0..<(2 * k), by: 2)]
                let saRef = bigA.sliced(axis: 0, start: 1, step: 2, count: m).sliced(axis: 1, start: 0, step: 2, count: k)
                assertMatmul(sa.matmul(tb), saRef, b, "sliced(step 2) x b.T")
                // Row-major rows longer than k (a column window): the CPU kernel reads such an A in place.
                let window = floatTensor(bigA, device: device)[.stride(1..<(2 * m + 1), by: 2), 3..<(3 + k)]
                let windowRef = bigA.sliced(axis: 0, start: 1, step: 2, count: m).sliced(axis: 1, start: 3, step: 1, count: k)
                assertMatmul(window.matmul(cb), windowRef, b, "column window x b")
                // A broadcast (stride-0) operand: every row of a is the same.
                let row = random([1, k], seed: UInt64(400 + i))
                assertMatmul(floatTensor(row, device: device).expand([m, k]).matmul(cb), row.broadcast(to: [m, k]), b, "expanded x b")
            }
        }
    }

    /// A row-major B under few rows of A is read in place by the CPU kernel, not packed: the MLP's
    /// weight gradient g.T @ x (100 x 128 x 784, whose last panel is one whole AVX-512 vector;
    /// n = 40 leaves one whole AVX2 vector), rows of B longer than n (a column window), a ragged
    /// last panel that is packed alone, and rows 4 KB apart (packed as before). A flipped B is
    /// made dense before any kernel sees it; it is checked here all the same.
    func testRowMajorBReadInPlace() {
        forEachDevice { device in
            for (i, (m, k, n)) in [(100, 128, 784), (12, 40, 48), (13, 33, 45), (128, 10, 100), (5, 300, 16), (9, 20, 40)].enumerated() {
                let gT = random([k, m], seed: UInt64(500 + i)), b = random([k, n], seed: UInt64(600 + i))
                let a = gT.permuted([1, 0])
                assertMatmul(floatTensor(gT, device: device).T.matmul(floatTensor(b, device: device)), a, b, "g.T x b")
                let ca = floatTensor(a, device: device)
                let wide = random([k, n + 7], seed: UInt64(700 + i))
                let window = floatTensor(wide, device: device)[0..<k, 3..<(3 + n)]
                assertMatmul(ca.matmul(window), a, wide.sliced(axis: 1, start: 3, step: 1, count: n), "a x column window")
                assertMatmul(ca.matmul(floatTensor(b, device: device).flip(0)), a, b.sliced(axis: 0, start: k - 1, step: -1, count: k),
                             "a x flipped b")
            }
            let a = random([12, 64], seed: 800), b = random([64, 1024], seed: 801)
            assertMatmul(floatTensor(a, device: device).matmul(floatTensor(b, device: device)), a, b, "b rows 4 KB apart")
        }
    }

    func testVectorOperands() {
        forEachDevice { device in
            let matrix = random([7, 13], seed: 1), vector = random([13], seed: 2), right = random([13, 5], seed: 3)
            let m = floatTensor(matrix, device: device), v = floatTensor(vector, device: device)
            assertMatmul(m.matmul(v), matrix, vector, "matrix x vector")
            assertMatmul(v.matmul(floatTensor(right, device: device)), vector, right, "vector x matrix")
            assertMatmul(m.T.matmul(floatTensor(random([7], seed: 4), device: device)), matrix.permuted([1, 0]), random([7], seed: 4),
                         "transposed matrix x vector")
            let batch = random([2, 3, 4], seed: 5), short = random([4], seed: 6), stack = random([2, 4, 5], seed: 7)
            assertMatmul(floatTensor(batch, device: device).matmul(floatTensor(short, device: device)), batch, short, "batch x vector")
            assertMatmul(floatTensor(short, device: device).matmul(floatTensor(stack, device: device)), short, stack, "vector x batch")
        }
    }

    func testBatchedWithBroadcastBatchAxes() {
        forEachDevice { device in
            let cases: [([Int], [Int])] = [
                ([2, 3, 4, 5], [5, 6]),
                ([2, 1, 4, 5], [3, 5, 6]),
                ([4, 5], [2, 3, 5, 6]),
                ([3, 1, 7, 9], [1, 2, 9, 3]),
                ([5, 17, 33], [5, 33, 9]),
                ([2, 5, 2100], [2, 2100, 33]),     // batches with K slices (CPU-driver OpenCL GEMM)
            ]
            for (i, (sa, sb)) in cases.enumerated() {
                let a = random(sa, seed: UInt64(10 + 2 * i)), b = random(sb, seed: UInt64(11 + 2 * i))
                assertMatmul(floatTensor(a, device: device).matmul(floatTensor(b, device: device)), a, b, "batched")
            }
            // Transposed inner axes of a batch, and a permuted batch axis.
            let a = random([3, 5, 4], seed: 40), b = random([6, 3, 5], seed: 41)
            let ta = floatTensor(a, device: device).transpose(-2, -1)             // [3, 4, 5]
            let tb = floatTensor(b, device: device).permute(1, 2, 0)               // [3, 5, 6]
            assertMatmul(ta.matmul(tb), a.permuted([0, 2, 1]), b.permuted([1, 2, 0]), "batched transposed operands")
        }
    }

    func testInt32OperandsAndEmptyAxes() {
        forEachDevice { device in
            let a = Tensor([[1, 2], [3, 4]] as [[Int32]], device: device)
            let b = Tensor([[5, 6], [7, 8]] as [[Int32]], device: device)
            assertExact(a.matmul(b), RefArray(shape: [2, 2], data: [19, 22, 43, 50]), dtype: .float32, "int32 x int32 gives float32")
            assertExact(Tensor.eye(3, device: device).matmul(Tensor([[1, 2], [3, 4], [5, 6]] as [[Float]], device: device)),
                        RefArray(shape: [3, 2], data: [1, 2, 3, 4, 5, 6]), "eye x matrix")
            // k = 0: the output must be written as zeros, even where the allocator hands back dirty memory.
            for size in [[3, 4], [64, 64]] {
                for _ in 0..<3 {
                    _ = Tensor.full(size, 7, device: device).scalars(as: Float.self)   // freed right away: its memory may be reused
                    assertExact(Tensor.zeros([size[0], 0], device: device).matmul(Tensor.zeros([0, size[1]], device: device)),
                                RefArray(shape: size, data: [Double](repeating: 0, count: size[0] * size[1])), "k = 0 gives zeros \(size)")
                }
            }
            XCTAssertEqual(Tensor.zeros([0, 5], device: device).matmul(Tensor.ones([5, 3], device: device)).shape, [0, 3],
                           "[\(device)] m = 0")
        }
    }

    /// 1024 x 1024 x 1024: ~300 sampled outputs against Double dot products.
    func testLarge1024Cube() {
        let n = 1024
        let aValues = randomFloats(n * n, seed: 1024), bValues = randomFloats(n * n, seed: 2048)
        var generator = SeededGenerator(seed: 7)
        let samples = (0..<300).map { _ in (Int.random(in: 0..<n, using: &generator), Int.random(in: 0..<n, using: &generator)) }
            + [(0, 0), (n - 1, n - 1), (0, n - 1), (n - 1, 0)]
        let bound = gemmRelativePerSqrtK * Double(n).squareRoot()
        forEachDevice { device in
            let a = try! Tensor(aValues, shape: [n, n], device: device), b = try! Tensor(bValues, shape: [n, n], device: device)
            for (label, result, transposedB) in [("a x b", a.matmul(b), false), ("a x b.T", a.matmul(b.T), true)] {
                let got = result.scalars(as: Float.self)
                XCTAssertEqual(result.shape, [n, n], "[\(device)] 1024^3 \(label) shape")
                var failures = 0
                for (i, j) in samples {
                    var total = 0.0, magnitude = 0.0
                    for p in 0..<n {
                        let product = Double(aValues[i * n + p]) * Double(transposedB ? bValues[j * n + p] : bValues[p * n + j])
                        total += product
                        magnitude += Swift.abs(product)
                    }
                    if !(Swift.abs(Double(got[i * n + j]) - total) <= bound * magnitude + 1e-6) {
                        failures += 1
                        if failures <= 3 { XCTFail("[\(device)] 1024^3 \(label) [\(i), \(j)]: got \(got[i * n + j]), expected \(total)") }
                    }
                }
                XCTAssertEqual(failures, 0, "[\(device)] 1024^3 \(label): sampled outputs out of bound")
            }
        }
    }
}

/// `addmm`: the bias broadcast into the product's shape and added by the GEMM's epilogue.
final class AddmmConformanceTests: XCTestCase {
    func testAddmmMatchesMatmulPlusBias() {
        forEachDevice { device in
            let cases: [(a: [Int], b: [Int], bias: [Int])] = [
                ([128, 784], [784, 10], [10]),   // a linear layer's step at MNIST's shapes
                ([7, 5], [5, 3], [7, 1]),        // a column bias
                ([2, 4, 6], [6, 5], [5]),        // batched, the bias broadcast over the batch
                ([3, 0], [0, 4], [4]),           // k = 0: the bias alone
                ([6], [6, 2], []),               // vector x matrix, a 0-d bias
                ([9, 8192], [8192, 32], [32]),   // long K, small C: the CPU splits K (bias added once)
            ]
            for (index, shapes) in cases.enumerated() {
                let a = Tensor.randn(shapes.a, generator: Generator(seed: UInt64(index)), device: device)
                let b = Tensor.randn(shapes.b, generator: Generator(seed: UInt64(index + 10)), device: device)
                let bias = Tensor.randn(shapes.bias, generator: Generator(seed: UInt64(index + 20)), device: device)
                let fused = Tensor.addmm(bias, a, b)
                let expected = a.matmul(b) + bias
                XCTAssertEqual(fused.shape, expected.shape, "[\(device)] addmm \(shapes)")
                if shapes.b[0] > 4096 {
                    // A long K sums in another order fused than unfused: bound the difference by
                    // the size of the products summed, as the matmul tests do.
                    let magnitude = a.abs().matmul(b.abs()) + bias.abs()
                    XCTAssertTrue(((fused - expected).abs() .<= magnitude * Float(1e-5) + Float(1e-6)).all().item() != 0,
                                  "[\(device)] addmm \(shapes)")
                } else {
                    assertClose(fused, RefArray(expected), crossBackendTolerance, "addmm \(shapes) on \(device)")
                }
            }
            let transposed = Tensor.randn([10, 784], device: device)
            let x = Tensor.randn([128, 784], device: device), bias = Tensor.randn([10], device: device)
            assertClose(Tensor.addmm(bias, x, transposed.T), RefArray(x.matmul(transposed.T) + bias), crossBackendTolerance,
                        "addmm with x @ W.T on \(device)")
            // Spare columns over ragged rows and a K past its last vector, added to a bias.
            let (x13, w39, bias39) = (Tensor.randn([13, 70], device: device), Tensor.randn([39, 70], device: device),
                                      Tensor.randn([39], device: device))
            let ragged = (Tensor.addmm(bias39, x13, w39.T) - (x13.matmul(w39.T) + bias39)).abs()
            XCTAssertTrue((ragged .<= (x13.abs().matmul(w39.T.abs()) + bias39.abs()) * Float(1e-5) + Float(1e-6)).all().item() != 0,
                          "[\(device)] addmm with x @ W.T, 39 outputs over 13 rows")
            // 100 outputs: the columns past the last whole CPU panel add the bias too. The bias
            // enters before the K blocks fused and after them unfused, so the two round
            // differently: bounded by the size of the products summed.
            let wide = Tensor.randn([100, 784], device: device), wideBias = Tensor.randn([100], device: device)
            let difference = (Tensor.addmm(wideBias, x, wide.T) - (x.matmul(wide.T) + wideBias)).abs()
            let magnitude = x.abs().matmul(wide.T.abs()) + wideBias.abs()
            XCTAssertTrue((difference .<= magnitude * Float(1e-5) + Float(1e-6)).all().item() != 0,
                          "[\(device)] addmm with x @ W.T, 100 outputs")
        }
    }
}
