import Foundation
import XCTest
@testable import Tessel

/// The operations autograd, nn and training build on, on every device, against NumPy numbers in
/// `Tests/Fixtures/ops.json` (written by `Tests/Fixtures/make_fixtures.py`) and exact references.
final class OperationsConformanceTests: XCTestCase {
    struct Scatter: Decodable { let index, source, out: FixtureArray }
    struct File: Decodable {
        let x, ties, cumsum0, cumsum1, cumprod1, prod, prod0, `var`, var1, std0_biased: FixtureArray
        let argsort1, sort1, argsort0, argsort1_descending: FixtureArray
        let pad_constant, pad_reflect, pad_replicate, linspace, flip, stride_back, nonzero, masked: FixtureArray
        let scatter: Scatter
    }

    func fixtures() throws -> File { try loadFixture("ops.json", as: File.self) }

    func testScansProductsAndStatistics() throws {
        let f = try fixtures()
        forEachDevice { device in
            let x = floatTensor(f.x.ref, device: device)
            assertClose(x.cumsum(axis: 0), f.cumsum0.ref, elementwiseTolerance, "cumsum axis 0")
            assertClose(x.cumsum(axis: 1), f.cumsum1.ref, elementwiseTolerance, "cumsum axis 1")
            assertClose(x.T.cumsum(axis: 0).T, f.cumsum1.ref, elementwiseTolerance, "cumsum of a transposed view")
            assertClose(x.cumprod(axis: -1), f.cumprod1.ref, elementwiseTolerance, "cumprod")
            assertClose(x.prod(), f.prod.ref, elementwiseTolerance, "prod")
            assertClose(x.prod(axis: 0), f.prod0.ref, elementwiseTolerance, "prod axis 0")
            XCTAssertEqual(x.prod(axis: 1, keepDims: true).shape, [3, 1])
            XCTAssertEqual(Tensor.zeros([2, 0], device: device).prod(axis: 1).toArray(), [1, 1], "[\(device)] empty product")
            assertClose(x.variance(), f.var.ref, softmaxTolerance, "var")
            assertClose(x.variance(axis: 1), f.var1.ref, softmaxTolerance, "var axis 1")
            assertClose(x.std(axis: 0, correction: 0), f.std0_biased.ref, softmaxTolerance, "std axis 0, no correction")
            let ints = Tensor([1, 2, 3, 4] as [Int32], device: device)
            XCTAssertEqual(ints.cumsum(axis: 0).scalars(as: Int32.self), [1, 3, 6, 10], "[\(device)] int32 cumsum")
            XCTAssertEqual(ints.cumsum(axis: 0).dtype, .int32)
            XCTAssertEqual(ints.prod().item(as: Int32.self), 24, "[\(device)] int32 prod")
            XCTAssertEqual(Tensor([true, false, true], device: device).cumsum(axis: 0).scalars(as: Int32.self), [1, 1, 2])
        }
    }

    func testSortingIsStableWithNaNLargest() throws {
        let f = try fixtures()
        forEachDevice { device in
            let ties = floatTensor(f.ties.ref, device: device)
            assertExact(ties.argsort(axis: 1), f.argsort1.ref, dtype: .int32, "argsort axis 1")
            assertExact(ties.argsort(axis: 0), f.argsort0.ref, dtype: .int32, "argsort axis 0")
            assertExact(ties.argsort(axis: 1, descending: true), f.argsort1_descending.ref, dtype: .int32, "argsort descending")
            assertExact(ties.sort(axis: 1).values, f.sort1.ref, "sort values")
            let (top, where_) = ties.topk(2, axis: 1)
            XCTAssertEqual(top.shape, [4, 2])
            assertExact(where_, RefArray.generate([4, 2]) { c in f.argsort1_descending.ref[[c[0], c[1]]] }, dtype: .int32, "topk indices")
            let smallest = Tensor([5, 1, 4, 1, 3] as [Int32], device: device).topk(3, largest: false)
            XCTAssertEqual(smallest.values.scalars(as: Int32.self), [1, 1, 3], "[\(device)] int32 topk smallest")
            XCTAssertEqual(smallest.indices.scalars(as: Int32.self), [1, 3, 4], "[\(device)] ties keep their order")
            // A long row: the OpenCL merge sort's several passes, against Swift's sort.
            let values = randomFloats(1000, seed: 7).map { ($0 * 20).rounded() }
            let expected = values.indices.sorted { values[$0] == values[$1] ? $0 < $1 : values[$0] < values[$1] }
            XCTAssertEqual(Tensor(values, device: device).argsort().scalars(as: Int32.self), expected.map(Int32.init),
                           "[\(device)] argsort of 1000 values with ties")
        }
    }

    func testPaddingFlipsAndNegativeSteps() throws {
        let f = try fixtures()
        forEachDevice { device in
            let x = floatTensor(f.x.ref, device: device)
            assertExact(x.pad([(1, 0), (2, 1)], mode: .constant(-1)), f.pad_constant.ref, "pad constant")
            assertExact(x.pad([(2, 1), (3, 4)], mode: .reflect), f.pad_reflect.ref, "pad reflect")
            assertExact(x.pad([(1, 2), (0, 3)], mode: .replicate), f.pad_replicate.ref, "pad replicate")
            assertExact(x.T.pad([(0, 3), (1, 2)], mode: .replicate).T, f.pad_replicate.ref, "pad of a transposed view")
            assertExact(x.flip(0, 1), f.flip.ref, "flip")
            assertExact(x[.stride(by: -2), .stride(from: 3, by: -2)], f.stride_back.ref, "x[::-2, 3::-2]")
            assertExact(x.flip(1).contiguous(), RefArray(x.flip(1)), "a flipped view copies")
            assertClose(x.flip(1).sum(axis: 1), RefArray(x.sum(axis: 1)), elementwiseTolerance, "reductions of a flipped view")
            assertExact(x.flip(0).matmul(x.T), RefArray(x.matmul(x.T).flip(0)), "matmul of a flipped view")
            XCTAssertEqual(Tensor.arange(10, device: device)[.stride(from: 2, by: 3)].scalars(as: Int32.self), [2, 5, 8], "[\(device)] x[2::3]")
            XCTAssertEqual(Tensor.arange(5, device: device)[.stride(from: -2, to: 0, by: -1)].scalars(as: Int32.self), [3, 2, 1],
                           "[\(device)] x[-2:0:-1]")
        }
    }

    func testMasksAndSelection() throws {
        let f = try fixtures()
        forEachDevice { device in
            let x = floatTensor(f.x.ref, device: device), ties = floatTensor(f.ties.ref, device: device)
            assertExact(ties.nonzero(), f.nonzero.ref, dtype: .int32, "nonzero")
            assertExact(x[x .> 0], f.masked.ref, "x[x > 0]")
            XCTAssertEqual(x.maskedFill(x .< 0, 0).toArray(), x.relu().toArray(), "[\(device)] maskedFill")
            let special = Tensor([1, .nan, .infinity, -.infinity, 0] as [Float], device: device)
            XCTAssertEqual(special.isnan().scalars(as: Bool.self), [false, true, false, false, false], "[\(device)] isnan")
            XCTAssertEqual(special.isinf().scalars(as: Bool.self), [false, false, true, true, false], "[\(device)] isinf")
            XCTAssertEqual(special.isfinite().scalars(as: Bool.self), [true, false, false, false, true], "[\(device)] isfinite")
            let m = Tensor([[0, 1, 0], [2, 3, 4]] as [[Int32]], device: device)
            XCTAssertEqual(m.any(axes: [1]).scalars(as: Bool.self), [true, true], "[\(device)] any")
            XCTAssertEqual(m.all(axes: [1]).scalars(as: Bool.self), [false, true], "[\(device)] all")
            XCTAssertEqual(m.all().item(as: Bool.self), false)
            XCTAssertEqual(Tensor.zeros([0], device: device).all().item(as: Bool.self), true, "[\(device)] all of nothing")
        }
    }

    /// x + a * b with one rounding per element, bit for bit Swift's `Float.addingProduct`, on
    /// every device: dense, broadcast (a scalar, a row), strided, int operands and in place
    /// (`addProduct`, and `multiply(by:adding:)`, which is the same op with self as the factor).
    func testAddingProductIsOneFusedMultiplyAdd() {
        forEachDevice { device in
            let n = 3 * 37
            let xs = randomFloats(n, in: -3...3, seed: 21), as_ = randomFloats(n, in: -3...3, seed: 22)
            let bs = randomFloats(n, in: -3...3, seed: 23), row = randomFloats(37, in: -2...2, seed: 24)
            let x = try! Tensor(xs, shape: [3, 37], device: device), a = try! Tensor(as_, shape: [3, 37], device: device)
            let b = try! Tensor(bs, shape: [3, 37], device: device), r = Tensor(row, device: device)
            XCTAssertEqual(x.addingProduct(a, b).toArray(), (0..<n).map { xs[$0].addingProduct(as_[$0], bs[$0]) }, "[\(device)] dense")
            XCTAssertEqual(x.addingProduct(a, Float(0.3)).toArray(), (0..<n).map { xs[$0].addingProduct(as_[$0], 0.3) }, "[\(device)] scalar")
            XCTAssertEqual(x.addingProduct(r, b).toArray(), (0..<n).map { xs[$0].addingProduct(row[$0 % 37], bs[$0]) }, "[\(device)] row")
            XCTAssertEqual(x.T.addingProduct(a.T, b.T).contiguous().toArray(), a.T.contiguous().toArray().indices.map { i in
                let (column, line) = (i / 3, i % 3), k = line * 37 + column
                return xs[k].addingProduct(as_[k], bs[k])
            }, "[\(device)] transposed")
            let reversed = (0..<37).map { row[36 - $0] }
            XCTAssertEqual(x[0].addingProduct(r.flip(0), b[1]).toArray(),
                           (0..<37).map { xs[$0].addingProduct(reversed[$0], bs[37 + $0]) }, "[\(device)] a reversed operand")
            let ints = Tensor([1, 2, 3] as [Int32], device: device)
            XCTAssertEqual(ints.addingProduct(ints, 2).dtype, .float32)
            XCTAssertEqual(ints.addingProduct(ints, 2).toArray(), [3, 6, 9], "[\(device)] int operands")
            var target = x.clone()
            let storage = target.storage
            target.addProduct(a, b)
            XCTAssertTrue(target.storage === storage, "[\(device)] addProduct writes in place")
            XCTAssertEqual(target.toArray(), (0..<n).map { xs[$0].addingProduct(as_[$0], bs[$0]) }, "[\(device)] in place")
            var velocity = a.clone()
            let velocityStorage = velocity.storage
            velocity.multiply(by: Float(0.9), adding: x)
            XCTAssertTrue(velocity.storage === velocityStorage, "[\(device)] multiply(by:adding:) writes in place")
            XCTAssertEqual(velocity.toArray(), (0..<n).map { xs[$0].addingProduct(as_[$0], 0.9) }, "[\(device)] multiply(by:adding:)")
            var scaledRows = a.clone()
            scaledRows.multiply(by: b, adding: r)
            XCTAssertEqual(scaledRows.toArray(), (0..<n).map { row[$0 % 37].addingProduct(as_[$0], bs[$0]) },
                           "[\(device)] multiply(by:adding:) a broadcast row")
            var column = x[0..., 5]
            column.addProduct(r[0..<3], 2)
            XCTAssertEqual(x[0..., 5].toArray(), (0..<3).map { xs[$0 * 37 + 5].addingProduct(row[$0], 2) }, "[\(device)] into a view")
        }
    }

    func testScatterAddAndIndexAdd() throws {
        let f = try fixtures()
        forEachDevice { device in
            let base = Tensor.zeros([3, 4], device: device)
            let out = base.scatterAdd(axis: 0, index: intTensor(f.scatter.index.ref, device: device),
                                      source: floatTensor(f.scatter.source.ref, device: device))
            assertClose(out, f.scatter.out.ref, elementwiseTolerance, "scatterAdd with repeated indices")
            XCTAssertEqual(base.toArray(), [Float](repeating: 0, count: 12), "[\(device)] scatterAdd leaves its input alone")
            // indexAdd is the backward of indexSelect: repeated rows accumulate.
            let rows = Tensor([[1, 2], [3, 4], [5, 6]] as [[Float]], device: device)
            let added = Tensor.zeros([2, 2], device: device).indexAdd(axis: 0, indices: Tensor([1, 0, 1] as [Int32], device: device),
                                                                       source: rows)
            XCTAssertEqual(added.toArray(), [3, 4, 6, 8], "[\(device)] indexAdd")
            let counts = Tensor.zeros([4], dtype: .int32, device: device)
                .scatterAdd(axis: 0, index: Tensor([3, 3, 0, 3] as [Int32], device: device), source: Tensor.ones([4], dtype: .int32, device: device))
            XCTAssertEqual(counts.scalars(as: Int32.self), [1, 0, 0, 3], "[\(device)] int32 scatterAdd counts")
        }
    }

    func testSplittingCreationAndRandomness() throws {
        let f = try fixtures()
        forEachDevice { device in
            let x = Tensor.arange(10, device: device)
            XCTAssertEqual(x.split(sizes: [3, 7]).map { $0.shape }, [[3], [7]])
            XCTAssertEqual(x.split(size: 4).map { $0.scalars(as: Int32.self) }, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], "[\(device)] split")
            XCTAssertEqual(x.chunk(3).map { $0.count }, [4, 4, 2], "[\(device)] chunk")
            let m = x.reshape([2, 5])
            XCTAssertEqual(m.unbind(axis: 1).map { $0.scalars(as: Int32.self) }, [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]], "[\(device)] unbind")
            XCTAssertTrue(m.split(size: 2, axis: 1)[1].storage === m.storage, "[\(device)] split gives views")
            assertExact(Tensor.linspace(-1, 2, count: 7, device: device), f.linspace.ref, "linspace")
            let pixels: [UInt8] = [0, 1, 127, 128, 254, 255, 7]
            let bytes = try! Tensor(bytes: pixels, shape: [7], dtype: .float32, device: device)
            XCTAssertEqual(bytes.toArray(), pixels.map(Float.init), "[\(device)] bytes as float32")
            let image = try! Tensor(bytes: pixels + [9, 10], shape: [3, 3], device: device)
            XCTAssertEqual(image.dtype, .int32)
            XCTAssertEqual(image.scalars(as: Int32.self), (pixels + [9, 10]).map(Int32.init), "[\(device)] bytes as int32")
            XCTAssertNil(try? Tensor(bytes: pixels, shape: [2, 2], device: device), "[\(device)] 7 bytes do not fill [2, 2]")

            // Bytes kept packed, four to an int32 word, and widened again: rows gathered from
            // the packed set (a batch), a row length that is not a multiple of 4 (padded
            // words), a sliced view with an offset, int32 output.
            let rows: [[UInt8]] = [[0, 1, 2, 3, 4, 5, 6, 7], [250, 251, 252, 253, 254, 255, 128, 127], [9, 8, 7, 6, 5, 4, 3, 2]]
            let packed = try! Tensor(packingBytes: rows.flatMap { $0 }, shape: [3, 8], device: device)
            XCTAssertEqual(packed.dtype, .int32)
            XCTAssertEqual(packed.shape, [3, 2])
            XCTAssertEqual(packed.scalars(as: Int32.self)[0], 0x0302_0100, "[\(device)] byte j in byte j % 4 of word j / 4")
            let batch = packed.indexSelect(axis: 0, indices: Tensor([2, 0] as [Int32], device: device)).unpackingBytes()
            XCTAssertEqual(batch.shape, [2, 8])
            XCTAssertEqual(batch.toArray(), (rows[2] + rows[0]).map(Float.init), "[\(device)] gathered rows widened")
            XCTAssertEqual(packed[1...].unpackingBytes(dtype: .int32).scalars(as: Int32.self), (rows[1] + rows[2]).map(Int32.init),
                           "[\(device)] an offset view widened as int32")
            let odd = try! Tensor(packingBytes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], shape: [2, 5], device: device)
            XCTAssertEqual(odd.shape, [2, 2])
            XCTAssertEqual(odd.unpackingBytes(count: 5).toArray(), (1...10).map(Float.init), "[\(device)] padded rows widened")
            XCTAssertEqual(odd.unpackingBytes().toArray(), [1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8, 9, 10, 0, 0, 0],
                           "[\(device)] the padding is zeros")
            XCTAssertNil(try? Tensor(packingBytes: pixels, shape: [2, 2], device: device), "[\(device)] 7 bytes do not fill [2, 2]")
            // Widened and normalised in one kernel: byte * scale + shift with one rounding,
            // contiguous and through a padded (sliced) row.
            let (scale, shift): (Float, Float) = (1 / (255 * 0.3081), -0.1307 / 0.3081)
            XCTAssertEqual(packed.unpackingBytes(scale: scale, shift: shift).toArray(),
                           rows.flatMap { $0 }.map { shift.addingProduct(Float($0), scale) }, "[\(device)] scaled and shifted")
            XCTAssertEqual(odd.unpackingBytes(count: 5, scale: scale, shift: shift).toArray(),
                           (1...10).map { shift.addingProduct(Float($0), scale) }, "[\(device)] padded rows scaled")

            // An explicit generator: the same stream whatever else draws, the same on every device.
            let first = Tensor.rand([5], generator: Generator(seed: 42), device: device).toArray()
            let generator = Generator(seed: 42)
            _ = Tensor.rand([100], device: device) // the default generator, not this one
            XCTAssertEqual(Tensor.rand([5], generator: generator, device: device).toArray(), first, "[\(device)] seeded generator")
            XCTAssertEqual(first, Tensor.rand([5], generator: Generator(seed: 42), device: .cpu).toArray(), "[\(device)] same on CPU")
            let permutation = Tensor.randperm(50, generator: Generator(seed: 1), device: device).scalars(as: Int32.self)
            XCTAssertEqual(permutation.sorted(), (0..<50).map(Int32.init), "[\(device)] randperm is a permutation")
            XCTAssertNotEqual(permutation, (0..<50).map(Int32.init))
            let uniform = Tensor.uniform([10000], low: 2, high: 5, generator: Generator(seed: 3), device: device)
            XCTAssertGreaterThanOrEqual(uniform.min().item(), 2)
            XCTAssertLessThan(uniform.max().item(), 5)
            XCTAssertEqual(uniform.mean().item(), 3.5, accuracy: 0.05, "[\(device)] uniform mean")
            let normal = Tensor.normal([10000], mean: 1, std: 2, generator: Generator(seed: 4), device: device)
            XCTAssertEqual(normal.mean().item(), 1, accuracy: 0.08, "[\(device)] normal mean")
            XCTAssertEqual(normal.std().item(), 2, accuracy: 0.08, "[\(device)] normal std")
            let coins = Tensor.full([10000], 0.25, device: device).bernoulli(generator: Generator(seed: 5))
            XCTAssertEqual(Set(coins.toArray()), [0, 1], "[\(device)] bernoulli gives 0 and 1")
            XCTAssertEqual(coins.mean().item(), 0.25, accuracy: 0.02, "[\(device)] bernoulli rate")
        }
    }
}
