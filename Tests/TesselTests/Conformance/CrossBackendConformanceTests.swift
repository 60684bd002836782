import Foundation
import XCTest
@testable import Tessel

/// Every op on random inputs, run on the CPU and on each other device: the results must agree
/// within `crossBackendTolerance` (exactly for integer, boolean and index results).
final class CrossBackendConformanceTests: XCTestCase {
    struct Op: Sendable {
        let name: String
        let run: @Sendable (Tensor, Tensor) -> Tensor
        init(_ name: String, _ run: @escaping @Sendable (Tensor, Tensor) -> Tensor) {
            self.name = name
            self.run = run
        }
    }

    /// `a` is [37, 29] in (-3, 3), `b` is [37, 29] in (0.5, 3) (safe for division, log and pow).
    static let ops: [Op] = [
        Op("neg", { a, _ in -a }), Op("abs", { a, _ in a.abs() }), Op("exp", { a, _ in a.exp() }), Op("log", { _, b in b.log() }),
        Op("sqrt", { _, b in b.sqrt() }), Op("sin", { a, _ in a.sin() }), Op("cos", { a, _ in a.cos() }), Op("tanh", { a, _ in a.tanh() }),
        Op("sigmoid", { a, _ in a.sigmoid() }), Op("relu", { a, _ in a.relu() }), Op("square", { a, _ in a.square() }),
        Op("+", { $0 + $1 }), Op("-", { $0 - $1 }), Op("*", { $0 * $1 }), Op("/", { $0 / $1 }), Op("pow", { a, b in b.pow(a) }),
        Op("maximum", { $0.maximum($1) }), Op("minimum", { $0.minimum($1) }), Op("scalar -", { a, _ in 1.5 - a }),
        Op("clamp", { a, _ in a.clamp(min: -1, max: 1) }),
        Op("==", { a, b in a.cast(.int32) .== b.cast(.int32) }), Op("<", { $0 .< $1 }), Op(">=", { $0 .>= $1 }),
        Op("where", { a, b in Tensor.where(a .> 0, a, b) }),
        Op("addingProduct", { a, b in a.addingProduct(b, a) }), Op("addingProduct scalar", { a, b in b.addingProduct(a, Float(-0.75)) }),
        Op("cast int32", { a, _ in (a * 10).cast(.int32) }), Op("int32 floorDivide", { a, b in (a * 100).cast(.int32).floorDivide((b * 3).cast(.int32)) }),
        Op("sum", { a, _ in a.sum() }), Op("sum 0", { a, _ in a.sum(axis: 0) }), Op("sum -1 keep", { a, _ in a.sum(axis: -1, keepDims: true) }),
        Op("mean", { a, _ in a.mean(axis: 1) }), Op("max", { a, _ in a.max(axis: 0) }), Op("min", { a, _ in a.min() }),
        Op("argmax", { a, _ in a.argmax(axis: 1) }), Op("argmin", { a, _ in a.argmin() }),
        Op("logSumExp", { a, _ in (a * 100).logSumExp(axis: 1) }), Op("softmax", { a, _ in (a * 100).softmax(axis: 0) }),
        Op("logSoftmax", { a, _ in a.logSoftmax() }),
        Op("matmul", { a, b in a.matmul(b.T) }), Op("matmul T", { a, b in a.T.matmul(b) }),
        Op("gather", { a, b in a.gather(axis: 1, index: (b * 9).cast(.int32)) }),
        Op("indexSelect", { a, _ in a.indexSelect(axis: 0, indices: Tensor([36, 0, 5, 5], device: a.device)) }),
        Op("cat", { a, b in Tensor.cat([a, b.T.T[.stride(0..<37, by: 3)]], axis: 0) }),
        Op("contiguous", { a, _ in a.T.contiguous() }),
    ]

    /// Ops that add many terms (their results may cancel to near 0, where only an absolute bound works).
    static let accumulating: Set<String> = ["sum", "sum 0", "sum -1 keep", "mean", "logSumExp", "softmax", "logSoftmax", "matmul", "matmul T"]

    func testEveryOpAgreesWithTheCPU() throws {
        let devices = conformanceDevices()
        guard devices.count > 1 else { throw XCTSkip("only the CPU backend on this machine: nothing to compare") }
        for seed in [1, 2, 3] as [UInt64] {
            let aValues = randomFloats(37 * 29, in: -3...3, seed: seed), bValues = randomFloats(37 * 29, in: 0.5...3, seed: seed + 100)
            func inputs(_ device: Device) -> [(String, Tensor, Tensor)] {
                let a = try! Tensor(aValues, shape: [37, 29], device: device), b = try! Tensor(bValues, shape: [37, 29], device: device)
                // The same values seen through a transposed copy, so kernels take their strided paths.
                let at = try! Tensor(RefArray(shape: [37, 29], floats: aValues).permuted([1, 0]).data.map { Float($0) }, shape: [29, 37],
                                     device: device).T
                return [("contiguous", a, b), ("strided", at, b)]
            }
            let cpuInputs = inputs(.cpu)
            for device in devices.dropFirst() {
                for ((layout, ca, cb), (_, da, db)) in zip(cpuInputs, inputs(device)) {
                    for op in Self.ops {
                        let expected = op.run(ca, cb), got = op.run(da, db)
                        let label = "\(op.name) on \(layout) inputs, seed \(seed): \(device) vs cpu"
                        XCTAssertEqual(got.dtype, expected.dtype, "\(label): dtype")
                        if expected.dtype == .float32 {
                            let tolerance = Self.accumulating.contains(op.name) ? crossBackendAccumulationTolerance : crossBackendTolerance
                            assertClose(got, RefArray(expected), tolerance, label)
                        } else {
                            assertExact(got, RefArray(expected), label)
                        }
                    }
                }
            }
        }
    }
}
