import Foundation
import XCTest
@testable import Tessel

/// reshape, flatten, squeeze/unsqueeze, permute, expand, slicing, contiguous, cat, stack,
/// device transfers, gather, indexSelect and oneHot on every device.
final class ViewConformanceTests: XCTestCase {
    /// 0, 1, ..., n - 1 as a float tensor of `shape` and its reference.
    private func iota(_ shape: [Int], device: Device) -> (Tensor, RefArray) {
        let ref = RefArray(shape: shape, data: (0..<shape.reduce(1, *)).map(Double.init))
        return (floatTensor(ref, device: device), ref)
    }

    func testReshapeAndFlatten() {
        forEachDevice { device in
            let (x, r) = iota([2, 3, 4], device: device)
            assertExact(x.reshape([4, -1]), r.reshaped([4, 6]), "reshape [4, -1]")
            assertExact(x.reshape(-1), r.reshaped([24]), "reshape -1")
            assertExact(x.reshape(2, 1, 12), r.reshaped([2, 1, 12]), "reshape variadic")
            XCTAssertTrue(x.reshape([6, 4]).storage === x.storage, "[\(device)] contiguous reshape is a view")
            // Transposed input: flattening must copy and read in logical order.
            let t = x.permute(2, 0, 1)                                    // [4, 2, 3]
            let tr = r.permuted([2, 0, 1])
            let flat = t.reshape([-1])
            assertExact(flat, tr.reshaped([24]), "reshape -1 of a permuted tensor (copies)")
            XCTAssertTrue(flat.isContiguous, "[\(device)] reshape copy is contiguous")
            assertExact(t.reshape([8, 3]), tr.reshaped([8, 3]), "reshape [8, 3] of permuted")
            assertExact(t.flatten(), tr.reshaped([24]), "flatten of permuted")
            assertExact(t.flatten(startAxis: 1), tr.reshaped([4, 6]), "flatten(startAxis: 1) of permuted")
            assertExact(x.flatten(startAxis: 0, endAxis: 1), r.reshaped([6, 4]), "flatten(0...1)")
            assertExact(Tensor(Float(5), device: device).flatten(), RefArray(shape: [1], data: [5]), "flatten of 0-d")
            // Sliced rows (step 2): splitting the last axis stays a view; merging rows must copy.
            let (big, br) = iota([6, 4], device: device)
            let rows = big[.stride(0..<6, by: 2)]                        // [3, 4], row stride 8
            let rowsRef = br.sliced(axis: 0, start: 0, step: 2, count: 3)
            let split = rows.reshape([3, 2, 2])
            assertExact(split, rowsRef.reshaped([3, 2, 2]), "reshape splitting the last axis of sliced rows")
            XCTAssertTrue(split.storage === big.storage, "[\(device)] that split is a view")
            assertExact(rows.reshape([12]), rowsRef.reshaped([12]), "reshape merging sliced rows (copy)")
            assertExact(rows.reshape([2, 6]), rowsRef.reshaped([2, 6]), "reshape [3,4] -> [2,6] of sliced rows")
            // Expanded input.
            let e = Tensor([1, 2, 3] as [Float], device: device).expand([2, 3])
            assertExact(e.reshape([3, 2]), RefArray(shape: [3, 2], data: [1, 2, 3, 1, 2, 3]), "reshape of expanded")
            assertExact(Tensor.zeros([0, 3], device: device).reshape([3, 1, 0]).contiguous(),
                        RefArray(shape: [3, 1, 0], data: []), "reshape of an empty tensor")
        }
    }

    func testSqueezeUnsqueezePermuteTransposeExpand() {
        forEachDevice { device in
            let (x, r) = iota([1, 3, 1, 4], device: device)
            assertExact(x.squeeze(), r.reshaped([3, 4]), "squeeze all")
            assertExact(x.squeeze(axis: 0), r.reshaped([3, 1, 4]), "squeeze axis 0")
            assertExact(x.squeeze(axis: -2), r.reshaped([1, 3, 4]), "squeeze axis -2")
            assertExact(x.squeeze(axis: 1), r, "squeeze of a non-1 axis is a no-op")
            let (y, yr) = iota([3, 4], device: device)
            assertExact(y.unsqueeze(axis: 0), yr.reshaped([1, 3, 4]), "unsqueeze 0")
            assertExact(y.unsqueeze(axis: 1), yr.reshaped([3, 1, 4]), "unsqueeze 1")
            assertExact(y.unsqueeze(axis: -1), yr.reshaped([3, 4, 1]), "unsqueeze -1")
            assertExact(y.T.unsqueeze(axis: 1), yr.permuted([1, 0]).reshaped([4, 1, 3]), "unsqueeze of transposed")
            assertExact(y.T.unsqueeze(axis: 1).squeeze().contiguous(), yr.permuted([1, 0]), "unsqueeze then squeeze of transposed")
            let (z, zr) = iota([2, 3, 4], device: device)
            assertExact(z.permute(2, 0, 1), zr.permuted([2, 0, 1]), "permute [2, 0, 1]")
            assertExact(z.permute([-1, 1, 0]), zr.permuted([2, 1, 0]), "permute with a negative axis")
            assertExact(z.transpose(0, 2), zr.permuted([2, 1, 0]), "transpose(0, 2)")
            assertExact(z.transpose(), zr.permuted([0, 2, 1]), "transpose() swaps the last two")
            assertExact(z.T, zr.permuted([2, 1, 0]), ".T reverses all axes")
            assertExact(z.permute(1, 2, 0).permute(2, 0, 1), zr, "permute round trip")
            let column = Tensor([[1], [2], [3]] as [[Float]], device: device)
            let expanded = column.expand([2, 3, 4])
            XCTAssertEqual(expanded.strides, [0, 1, 0], "[\(device)] expand uses stride 0")
            assertExact(expanded, RefArray(shape: [3, 1], data: [1, 2, 3]).broadcast(to: [2, 3, 4]), "expand [3,1] -> [2,3,4]")
            assertExact(column.expand([-1, 5]), RefArray(shape: [3, 1], data: [1, 2, 3]).broadcast(to: [3, 5]), "expand with -1")
            assertExact(expanded.contiguous(), RefArray(shape: [3, 1], data: [1, 2, 3]).broadcast(to: [2, 3, 4]), "contiguous of expanded")
            assertExact(Tensor(Float(7), device: device).expand([2, 2]), RefArray(shape: [2, 2], data: [7, 7, 7, 7]), "expand 0-d")
        }
    }

    func testSlicing() {
        forEachDevice { device in
            let (x, r) = iota([6, 8], device: device)
            assertExact(x[1..<3], r.sliced(axis: 0, start: 1, step: 1, count: 2), "t[1..<3]")
            assertExact(x[.all, 0], r.sliced(axis: 1, start: 0, step: 1, count: 1).reshaped([6]), "t[.all, 0]")
            assertExact(x[-1], r.sliced(axis: 0, start: 5, step: 1, count: 1).reshaped([8]), "t[-1]")
            assertExact(x[.all, -2], r.sliced(axis: 1, start: 6, step: 1, count: 1).reshaped([6]), "t[.all, -2]")
            assertExact(x[-3 ..< -1, (-5)...], r.sliced(axis: 0, start: 3, step: 1, count: 2).sliced(axis: 1, start: 3, step: 1, count: 5),
                        "t[-3..<-1, -5...]")
            assertExact(x[.all, .stride(0..<8, by: 2)], r.sliced(axis: 1, start: 0, step: 2, count: 4), "t[.all, .stride(0..<8, by: 2)]")
            assertExact(x[.stride(1..<6, by: 3), .stride(-7 ..< -1, by: 4)],
                        r.sliced(axis: 0, start: 1, step: 3, count: 2).sliced(axis: 1, start: 1, step: 4, count: 2),
                        "steps with negative bounds")
            assertExact(x[..<2], r.sliced(axis: 0, start: 0, step: 1, count: 2), "t[..<2]")
            assertExact(x[...2], r.sliced(axis: 0, start: 0, step: 1, count: 3), "t[...2]")
            assertExact(x[4...], r.sliced(axis: 0, start: 4, step: 1, count: 2), "t[4...]")
            assertExact(x[2, 3], RefArray(shape: [], data: [19]), "t[2, 3] is 0-d")
            XCTAssertEqual(x[2, 3].item(), 19, "[\(device)] item of t[2, 3]")
            assertExact(x[.newAxis], r.reshaped([1, 6, 8]), "t[.newAxis]")
            assertExact(x[.all, .newAxis, 1..<3], r.sliced(axis: 1, start: 1, step: 1, count: 2).reshaped([6, 1, 2]),
                        "t[.all, .newAxis, 1..<3]")
            assertExact(x[2..<100], r.sliced(axis: 0, start: 2, step: 1, count: 4), "out-of-range bounds clamp")
            XCTAssertEqual(x.slice([.range(start: 5, end: 2, step: 1)]).shape, [0, 8], "[\(device)] empty slice (end before start)")
            // Slices of slices of a transposed tensor.
            let t = x.T                                                     // [8, 6]
            let tr = r.permuted([1, 0])
            assertExact(t[.stride(1..<8, by: 2)][1..., .stride(0..<6, by: 2)],
                        tr.sliced(axis: 0, start: 1, step: 2, count: 4).sliced(axis: 0, start: 1, step: 1, count: 3)
                            .sliced(axis: 1, start: 0, step: 2, count: 3),
                        "slice of a slice of a transposed tensor")
            // Ops on a slice read only the slice.
            assertClose(x[1..<3, 2..<5] * 2, r.sliced(axis: 0, start: 1, step: 1, count: 2).sliced(axis: 1, start: 2, step: 1, count: 3)
                .map { $0 * 2 }, elementwiseTolerance, "arithmetic on a slice")
            XCTAssertEqual(x[.stride(0..<6, by: 2)].sum().item(), Float(r.sliced(axis: 0, start: 0, step: 2, count: 3).data.reduce(0, +)),
                           "[\(device)] sum of a stepped slice")
        }
    }

    func testContiguous() {
        forEachDevice { device in
            for operand in layoutVariants([5, 7, 3], device: device, seed: 3, values: { randomFloats($0, seed: $1) }) {
                let c = operand.tensor.contiguous()
                XCTAssertTrue(c.isContiguous, "[\(device)] contiguous() of \(operand.name)")
                XCTAssertEqual(c.strides, [21, 3, 1], "[\(device)] contiguous() strides of \(operand.name)")
                assertExact(c, operand.ref, "contiguous() of \(operand.name)")
            }
            let x = Tensor([1, 2, 3] as [Float], device: device)
            XCTAssertTrue(x.contiguous().storage === x.storage, "[\(device)] contiguous() of a contiguous tensor is itself")
        }
    }

    /// Transposes made contiguous: the CPU backend copies these in tiles (ragged edges, leading
    /// batch axes, int32 data, a sliced source) rather than element by element.
    func testContiguousOfTransposes() {
        forEachDevice { device in
            let cases: [([Int], [Int])] = [([37, 70], [1, 0]), ([64, 64], [1, 0]), ([3, 45, 33], [0, 2, 1]),
                                           ([2, 33, 3, 40], [1, 3, 0, 2]), ([5, 100, 6], [2, 1, 0])]
            for (i, (shape, order)) in cases.enumerated() {
                let values = randomFloats(shape.reduce(1, *), seed: UInt64(40 + i))
                let x = try! Tensor(values, shape: shape, device: device).permute(order)
                let expected = RefArray(shape: shape, floats: values).permuted(order)
                assertExact(x.contiguous(), expected, "contiguous() of \(shape) permuted \(order)")
            }
            let ints = (0..<(50 * 40)).map { Int32($0) }
            let m = try! Tensor(ints, shape: [50, 40], device: device)
            assertExact(m.T.contiguous(), RefArray(shape: [50, 40], ints: ints).permuted([1, 0]), dtype: .int32, "int32 transpose")
            let window = m[3..<47, .stride(1..<40, by: 3)]
            let windowRef = RefArray(shape: [50, 40], ints: ints).sliced(axis: 0, start: 3, step: 1, count: 44)
                .sliced(axis: 1, start: 1, step: 3, count: 13)
            assertExact(window.T.contiguous(), windowRef.permuted([1, 0]), dtype: .int32, "transpose of a sliced window")
            // Tiled transposes of a window at an offset, into a strided destination (cat), of a
            // broadcast column, and a short wide one (4 rows after collapsing: columns split).
            let intRef = RefArray(shape: [50, 40], ints: ints)
            let offsetWindow = intRef.sliced(axis: 0, start: 3, step: 1, count: 44).sliced(axis: 1, start: 1, step: 1, count: 39)
            assertExact(m[3..<47, 1..<40].T.contiguous(), offsetWindow.permuted([1, 0]), dtype: .int32, "transpose of a window at an offset")
            let left = try! Tensor(randomFloats(45 * 33, seed: 50), shape: [45, 33], device: device)
            let right = try! Tensor(randomFloats(7 * 33, seed: 51), shape: [7, 33], device: device)
            let joined = Tensor.cat([left.T, right.T], axis: 1)        // rows of 52 written 45 and 7 at a time
            XCTAssertEqual(joined.shape, [33, 52], "[\(device)] cat of transposes")
            assertExact(joined[.all, 0..<45], RefArray(left).permuted([1, 0]), "cat of transposes, first part")
            assertExact(joined[.all, 45..<52], RefArray(right).permuted([1, 0]), "cat of transposes, second part")
            let column = try! Tensor(randomFloats(70, seed: 52), shape: [70, 1], device: device)
            assertExact(column.expand([70, 45]).contiguous(), RefArray(column).broadcast(to: [70, 45]), "contiguous of a broadcast column")
            let tall = try! Tensor(randomFloats(5000 * 4, seed: 53), shape: [5000, 4], device: device)
            assertExact(tall.T.contiguous(), RefArray(tall).permuted([1, 0]), "transpose of [5000, 4] (one band of rows)")
        }
    }

    func testCatAndStack() {
        forEachDevice { device in
            let (a, ar) = iota([2, 3], device: device)
            let bRef = RefArray(shape: [3, 4], floats: randomFloats(12, seed: 5))
            let b = floatTensor(bRef, device: device).T                         // [4, 3], non-contiguous
            let br = bRef.permuted([1, 0])
            let c = Tensor([[9, 9, 9]] as [[Float]], device: device).expand([2, 3])   // stride 0
            let axis0 = Tensor.cat([a, b, c], axis: 0)
            assertExact(axis0, RefArray(shape: [8, 3], data: ar.data + br.data + [9, 9, 9, 9, 9, 9]), "cat axis 0 with transposed, expanded")
            let left = a, right = b[..<2]                                         // [2, 3] strided
            let axis1 = Tensor.cat([left, right, a[.all, .stride(0..<3, by: 2)]], axis: 1)
            let axis1Ref = RefArray.generate([2, 8]) { c in
                c[1] < 3 ? ar[[c[0], c[1]]] : c[1] < 6 ? br[[c[0], c[1] - 3]] : ar[[c[0], (c[1] - 6) * 2]]
            }
            assertExact(axis1, axis1Ref, "cat axis 1 with strided inputs")
            assertExact(Tensor.cat([a, b[..<2]], axis: -1), RefArray.generate([2, 6]) { c in c[1] < 3 ? ar[[c[0], c[1]]] : br[[c[0], c[1] - 3]] },
                        "cat axis -1")
            assertExact(Tensor.cat([a, Tensor.zeros([0, 3], device: device)], axis: 0), ar, "cat with an empty tensor")
            let ints = Tensor.cat([Tensor([1, 2] as [Int32], device: device), Tensor([3] as [Int32], device: device)])
            assertExact(ints, RefArray(shape: [3], data: [1, 2, 3]), dtype: .int32, "cat int32")
            let s0 = Tensor.stack([a, b[1...2], c])
            assertExact(s0, RefArray(shape: [3, 2, 3], data: ar.data + br.sliced(axis: 0, start: 1, step: 1, count: 2).data + [9, 9, 9, 9, 9, 9]),
                        "stack axis 0")
            let s1 = Tensor.stack([a, c], axis: 1)
            assertExact(s1, RefArray.generate([2, 2, 3]) { c in c[1] == 0 ? ar[[c[0], c[2]]] : 9 }, "stack axis 1")
            let sLast = Tensor.stack([a, c], axis: -1)
            assertExact(sLast, RefArray.generate([2, 3, 2]) { c in c[2] == 0 ? ar[[c[0], c[1]]] : 9 }, "stack axis -1")
        }
    }

    func testTransfersBetweenEveryPairOfDevices() {
        let devices = conformanceDevices()
        let ref = RefArray(shape: [17, 33], floats: randomFloats(17 * 33, seed: 9))
        for source in devices {
            for target in devices {
                let x = floatTensor(ref, device: source)
                let moved = x.to(target)
                XCTAssertEqual(moved.device, target, "\(source) -> \(target): device")
                assertExact(moved, ref, "to(\(target)) from \(source)")
                assertExact(moved.to(source), ref, "round trip \(source) -> \(target) -> \(source)")
                assertExact(x.T.to(target), ref.permuted([1, 0]), "transposed \(source) -> \(target)")
                assertExact(x[.stride(1..<17, by: 3), 5...].to(target),
                            ref.sliced(axis: 0, start: 1, step: 3, count: 6).sliced(axis: 1, start: 5, step: 1, count: 28),
                            "sliced \(source) -> \(target)")
                let ints = Tensor([Int32.min, -1, 0, Int32.max] as [Int32], device: source).to(target)
                assertExact(ints, RefArray(shape: [4], data: [-2_147_483_648, -1, 0, 2_147_483_647]), dtype: .int32, "int32 \(source) -> \(target)")
                let bools = Tensor([true, false], device: source).to(target)
                assertExact(bools, RefArray(shape: [2], data: [1, 0]), dtype: .bool, "bool \(source) -> \(target)")
                assertExact((moved + 1).to(source), ref.map { Double(Float($0) + 1) }, "compute on \(target), read on \(source)")
            }
        }
        XCTAssertEqual(Tensor([1] as [Float], device: .cpu).to(.cpu).device, .cpu)
    }

    func testGatherIndexSelectOneHot() {
        forEachDevice { device in
            let xRef = RefArray(shape: [4, 5], floats: randomFloats(20, seed: 7))
            let x = floatTensor(xRef, device: device)
            let indexValues: [Int32] = [0, 4, 4, 1, 2, 3, 3, 0, 1, 1, 2, 4]          // [4, 3]
            let index = try! Tensor(indexValues, shape: [4, 3], device: device)
            assertExact(x.gather(axis: 1, index: index),
                        RefArray.generate([4, 3]) { c in xRef[[c[0], Int(indexValues[c[0] * 3 + c[1]])]] }, "gather axis 1")
            let rowIndex = try! Tensor([3, 0, 1, 2, 2, 0, 1, 3, 3, 3] as [Int32], shape: [2, 5], device: device)
            let rowValues: [Int32] = [3, 0, 1, 2, 2, 0, 1, 3, 3, 3]
            assertExact(x.gather(axis: 0, index: rowIndex),
                        RefArray.generate([2, 5]) { c in xRef[[Int(rowValues[c[0] * 5 + c[1]]), c[1]]] }, "gather axis 0")
            assertExact(x.T.gather(axis: -1, index: try! Tensor([0, 3, 3, 1, 2] as [Int32], shape: [5, 1], device: device)),
                        RefArray(shape: [5, 1], data: [xRef[[0, 0]], xRef[[3, 1]], xRef[[3, 2]], xRef[[1, 3]], xRef[[2, 4]]]),
                        "gather axis -1 of transposed")
            let picks = Tensor([2, 0, 2, 4] as [Int32], device: device)
            assertExact(x.indexSelect(axis: 1, indices: picks), RefArray.generate([4, 4]) { c in xRef[[c[0], [2, 0, 2, 4][c[1]]]] },
                        "indexSelect axis 1")
            assertExact(x.indexSelect(axis: 0, indices: Tensor([3, 3, 0] as [Int32], device: device)),
                        RefArray.generate([3, 5]) { c in xRef[[[3, 3, 0][c[0]], c[1]]] }, "indexSelect axis 0")
            assertExact(x[.all, .stride(0..<5, by: 2)].indexSelect(axis: 1, indices: Tensor([2, 1] as [Int32], device: device)),
                        RefArray.generate([4, 2]) { c in xRef[[c[0], [4, 2][c[1]]]] }, "indexSelect of a strided view")
            let ints = Tensor([10, 20, 30] as [Int32], device: device)
            assertExact(ints.indexSelect(axis: 0, indices: Tensor([2, 2, 0] as [Int32], device: device)),
                        RefArray(shape: [3], data: [30, 30, 10]), dtype: .int32, "indexSelect of int32")
            // Gather from a broadcast (stride-0) source and along the middle axis of a rank-3 tensor.
            let row = RefArray(shape: [1, 5], floats: randomFloats(5, seed: 8))
            let spread = floatTensor(row, device: device).expand([4, 5])
            assertExact(spread.gather(axis: 1, index: index), RefArray.generate([4, 3]) { c in row[[0, Int(indexValues[c[0] * 3 + c[1]])]] },
                        "gather from an expanded tensor")
            let cube = RefArray(shape: [3, 4, 2], floats: randomFloats(24, seed: 9))
            let middle = RefArray(shape: [3, 2, 2], ints: [3, 0, 1, 1, 2, 2, 0, 3, 1, 0, 3, 3])
            assertExact(floatTensor(cube, device: device).gather(axis: 1, index: intTensor(middle, device: device)),
                        RefArray.generate([3, 2, 2]) { c in cube[[c[0], Int(middle[c]), c[2]]] }, "gather along axis 1 of rank 3")
            let labels = Tensor([2, 0, 3, 0] as [Int32], device: device)
            assertExact(labels.oneHot(classes: 4),
                        RefArray(shape: [4, 4], data: [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0]), dtype: .float32, "oneHot")
            let labels2 = Tensor([[1, 0], [2, 1]] as [[Int32]], device: device)
            assertExact(labels2.oneHot(classes: 3), RefArray.generate([2, 2, 3]) { c in
                Double([[1, 0], [2, 1]][c[0]][c[1]] == c[2] ? 1 : 0)
            }, "oneHot of a matrix")
            let big = RefArray(shape: [1000], ints: randomInts(1000, in: 0...9, seed: 3))
            assertExact(intTensor(big, device: device).oneHot(classes: 10), RefArray.generate([1000, 10]) { c in big[[c[0]]] == Double(c[1]) ? 1 : 0 },
                        "oneHot of 1000 labels")
        }
    }
}
