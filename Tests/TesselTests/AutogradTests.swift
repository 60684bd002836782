import Foundation
import XCTest
@testable import Tessel

/// Reverse-mode autograd on every device: each rule against central differences, the lesson's
/// examples, accumulation, freeing, in-place checks and task-local recording.
final class AutogradTests: XCTestCase {
    /// Checks the gradient of `sum(f(x) * weight)` with respect to `x` against central
    /// differences of the same float32 function (evaluated in Double from float32 results).
    func assertGradient(_ name: String, shape: [Int], device: Device, seed: UInt64 = 1, range: ClosedRange<Float> = -1...1,
                        transposed: Bool = false, tolerance: Double = 2e-2, file: StaticString = #filePath, line: UInt = #line,
                        _ f: (Tensor) -> Tensor) {
        let values = randomFloats(shape.reduce(1, *), in: range, seed: seed)
        func input(_ values: [Float]) -> Tensor {
            // Optionally the same values as a transposed view, so rules see strided inputs.
            if transposed, shape.count == 2 {
                let stored = (0..<values.count).map { values[($0 % shape[0]) * shape[1] + $0 / shape[0]] }
                return Tensor(stored, device: device).reshape([shape[1], shape[0]]).T
            }
            return Tensor(values, device: device).reshape(shape)
        }
        let probe = f(input(values))
        let weight = Tensor(randomFloats(probe.count, in: 0.5...1.5, seed: seed + 100), device: device).reshape(probe.shape)
        let x = input(values).requiringGrad()
        let loss = (f(x) * weight).sum()
        loss.backward()
        guard let analytic = x.grad?.scalars(as: Float.self) else { return XCTFail("[\(device)] \(name): no gradient", file: file, line: line) }
        let epsilon: Float = 1e-2
        var worst = 0.0, worstAt = 0
        for i in values.indices {
            var plus = values, minus = values
            plus[i] += epsilon
            minus[i] -= epsilon
            let up = Double((f(input(plus)) * weight).sum().item())
            let down = Double((f(input(minus)) * weight).sum().item())
            let numeric = (up - down) / Double(2 * epsilon)
            let error = Swift.abs(numeric - Double(analytic[i])) / Swift.max(1, Swift.abs(numeric))
            if error > worst { worst = error; worstAt = i }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "[\(device)] \(name): gradient element \(worstAt) off by \(worst)", file: file, line: line)
    }

    func testElementwiseRules() {
        forEachDevice { device in
            for transposed in [false, true] {
                let t = transposed ? " (strided)" : ""
                assertGradient("neg\(t)", shape: [3, 4], device: device, transposed: transposed) { -$0 }
                assertGradient("exp\(t)", shape: [3, 4], device: device, transposed: transposed) { $0.exp() }
                assertGradient("log\(t)", shape: [3, 4], device: device, range: 0.5...2, transposed: transposed) { $0.log() }
                assertGradient("sqrt\(t)", shape: [3, 4], device: device, range: 0.5...2, transposed: transposed) { $0.sqrt() }
                assertGradient("sin cos\(t)", shape: [3, 4], device: device, transposed: transposed) { $0.sin() + $0.cos() }
                assertGradient("tanh sigmoid\(t)", shape: [3, 4], device: device, transposed: transposed) { $0.tanh() * $0.sigmoid() }
                assertGradient("square abs\(t)", shape: [3, 4], device: device, range: 0.2...1, transposed: transposed) {
                    $0.square() + (-$0).abs()
                }
                assertGradient("relu\(t)", shape: [3, 4], device: device, range: 0.1...1, transposed: transposed) { ($0 - 0.55).relu() }
            }
            let b = Tensor(randomFloats(4, in: 0.5...2, seed: 9), device: device)
            assertGradient("broadcast + - * /", shape: [3, 4], device: device) { ($0 + b) * ($0 - b) / b }
            assertGradient("scalar ops", shape: [3, 4], device: device) { 2 - $0 * 3 + 1 / ($0 + 4) }
            assertGradient("pow", shape: [2, 3], device: device, range: 0.5...2) { $0.pow(Float(2.5)) + Tensor(Float(1.5), device: device).pow($0) }
            let column = Tensor(randomFloats(3, in: -1...1, seed: 10), device: device).reshape([3, 1])
            assertGradient("maximum minimum", shape: [3, 4], device: device) { $0.maximum(column) + $0.minimum(0.3) }
            assertGradient("where", shape: [3, 4], device: device) { x in Tensor.where(x .> Float(0), x.exp(), x * 3) }
            assertGradient("addingProduct", shape: [3, 4], device: device) { x in x.exp().addingProduct(x, x * 2).addingProduct(column, x) }
            // Values well inside one bound and past the other: no kink within the differences' step.
            assertGradient("clamp", shape: [3, 4], device: device, range: 0.6...0.9) { $0.clamp(min: 0, max: 0.5) + $0.clamp(min: 0.1, max: 2) * 2 }
            // The gradient of a broadcast operand is summed over the broadcast axes.
            assertGradient("gradient of the broadcast row", shape: [4], device: device) { row in
                Tensor(randomFloats(12, in: -1...1, seed: 11), device: device).reshape([3, 4]) * row
            }
        }
    }

    func testReductionAndSoftmaxRules() {
        forEachDevice { device in
            assertGradient("sum axes", shape: [2, 3, 4], device: device) { $0.sum(axes: [0, 2]) }
            assertGradient("mean keepDims", shape: [3, 4], device: device) { $0.mean(axis: 1, keepDims: true) * $0 }
            assertGradient("max min", shape: [3, 5], device: device, seed: 3) { $0.max(axis: 1) + $0.min(axis: 0).sum() }
            assertGradient("logSumExp", shape: [3, 5], device: device) { $0.logSumExp(axis: 1) }
            assertGradient("softmax", shape: [3, 5], device: device) { $0.softmax(axis: -1) }
            assertGradient("logSoftmax axis 0", shape: [3, 5], device: device, transposed: true) { $0.logSoftmax(axis: 0) }
            assertGradient("variance", shape: [4, 3], device: device) { $0.variance(axis: 0) }
            assertGradient("cumsum", shape: [3, 4], device: device) { $0.cumsum(axis: 1) }
            assertGradient("cumprod prod", shape: [2, 3], device: device, range: 0.5...1.5) { $0.cumprod(axis: 0) + $0.prod() }
        }
    }

    func testViewAndIndexingRules() {
        forEachDevice { device in
            assertGradient("reshape permute T", shape: [2, 3, 4], device: device) { $0.reshape([6, 4]).T.reshape([4, 2, 3]).permute(2, 0, 1) }
            assertGradient("expand", shape: [3, 1], device: device) { $0.expand([3, 4]) * 2 }
            assertGradient("slice steps", shape: [5, 6], device: device) { $0[.stride(from: 4, by: -2), 1..<5] }
            assertGradient("flip squeeze unsqueeze", shape: [3, 4], device: device) { $0.flip(0).unsqueeze(axis: 1).squeeze(axis: 1) }
            assertGradient("cat stack", shape: [2, 3], device: device) { x in Tensor.cat([x, x.exp()], axis: 1) + Tensor.stack([x, x]).sum(axis: 0).repeatedColumns }
            assertGradient("split unbind", shape: [4, 3], device: device) { x in x.split(sizes: [1, 3])[1].sum(axis: 0) * x.unbind(axis: 0)[0] }
            assertGradient("pad constant", shape: [2, 3], device: device) { $0.pad([(1, 0), (2, 1)], mode: .constant(5)) }
            assertGradient("pad reflect", shape: [3, 4], device: device) { $0.pad([(2, 1), (3, 2)], mode: .reflect) }
            assertGradient("pad replicate", shape: [3, 4], device: device) { $0.pad([(1, 2), (0, 3)], mode: .replicate) }
            let windows = WindowGeometry(kernel: (2, 3), stride: (2, 1), padding: (1, 1), dilation: (1, 2))
            assertGradient("unfold", shape: [2, 2, 4, 5], device: device, transposed: true) { $0.unfold(windows) }
            assertGradient("fold", shape: [2, 3, 3, 12], device: device) { $0.fold(windows, height: 4, width: 5) }
            assertGradient("unfold channels-last", shape: [2, 2, 4, 5], device: device) { $0.unfold(windows, channelsLast: true) }
            assertGradient("fold channels-last", shape: [2, 3, 3, 12], device: device) { $0.fold(windows, height: 4, width: 5, channelsLast: true) }
            assertGradient("asStrided overlapping windows", shape: [6], device: device) { $0.asStrided(shape: [3, 3], strides: [1, 1], offset: 0) }
            assertGradient("asStrided of a view", shape: [4, 3], device: device) { $0[1...].asStrided(shape: [2, 2], strides: [3, 2], offset: 4) }
            assertGradient("asStrided of an expanded tensor", shape: [2], device: device) {
                $0.unsqueeze(axis: 0).expand([3, 2]).asStrided(shape: [2, 2], strides: [1, 0], offset: 0)
            }
            let index = Tensor([[0, 2], [1, 1], [3, 0]] as [[Int32]], device: device)
            assertGradient("gather", shape: [3, 4], device: device) { $0.gather(axis: 1, index: index) }
            assertGradient("indexSelect repeated", shape: [4, 2], device: device) { $0.indexSelect(axis: 0, indices: Tensor([3, 0, 3] as [Int32], device: device)) }
            let base = Tensor.zeros([3, 4], device: device)
            assertGradient("scatterAdd source", shape: [3, 2], device: device) { base.scatterAdd(axis: 1, index: index, source: $0) }
            let corner = Tensor([[1, 0], [0, 1]] as [[Int32]], device: device)
            assertGradient("scatterAdd with an index smaller than the base", shape: [2, 2], device: device) {
                base.scatterAdd(axis: 0, index: corner, source: $0)
            }
            assertGradient("scatterAdd base", shape: [3, 4], device: device) { $0.scatterAdd(axis: 1, index: index, source: Tensor.ones([3, 2], device: device)) }
            if let other = Device.all.first(where: { $0 != device }) {
                assertGradient("to another device", shape: [2, 3], device: device) { $0.to(other).exp().to(device) }
            }
        }
    }

    func testMatmulRules() {
        forEachDevice { device in
            let w = Tensor(randomFloats(12, in: -1...1, seed: 5), device: device).reshape([4, 3])
            assertGradient("matrix x matrix", shape: [2, 4], device: device) { $0.matmul(w) }
            assertGradient("matrix x transposed", shape: [3, 4], device: device) { w.matmul($0) }
            assertGradient("vector x matrix", shape: [4], device: device) { $0.matmul(w) }
            assertGradient("matrix x vector", shape: [3], device: device) { w.matmul($0) }
            assertGradient("vector x vector", shape: [4], device: device) { $0.matmul(w[.all, 0]) }
            let batch = Tensor(randomFloats(24, in: -1...1, seed: 6), device: device).reshape([2, 3, 4])
            assertGradient("broadcast batch", shape: [4, 5], device: device) { batch.matmul($0) }
            // Transposed operands (x @ W.T, cols.T @ g): their gradients are made transposed.
            assertGradient("x @ W.T", shape: [3, 4], device: device) { w.T.matmul($0.T) }
            assertGradient("A.T @ x", shape: [4, 2], device: device) { $0.T.matmul(w) }
            assertGradient("broadcast batch @ W.T", shape: [5, 4], device: device) { batch.matmul($0.T) }
            assertGradient("batched transposed", shape: [2, 4, 3], device: device) { $0.transpose(-2, -1).matmul(w) }
            let bias = Tensor(randomFloats(3, in: -1...1, seed: 7), device: device)
            assertGradient("addmm input", shape: [2, 4], device: device) { Tensor.addmm(bias, $0, w) }
            assertGradient("addmm bias", shape: [3], device: device) { Tensor.addmm($0, Tensor.ones([2, 4], device: device), w) }
        }
    }

    func testTheLessonsExamples() {
        forEachDevice { device in
            let x = Tensor(Float(3), device: device).requiringGrad()
            x.square().backward()
            XCTAssertEqual(x.grad?.item(), 6, "[\(device)] d/dx x^2 at 3")
            let v = Tensor([3, 4, 10] as [Float], device: device, requiresGrad: true)
            v.square().sum().backward()
            XCTAssertEqual(v.grad?.toArray(), [6, 8, 20], "[\(device)] grad of sum(x^2) at [3, 4, 10]")

            // The roller coaster: speed = a t^2 + b t + c on noisy data, plain gradient descent.
            let t = Tensor.arange(Float(0), 20, device: device)
            let noise = Tensor.randn([20], generator: Generator(seed: 42), device: device) * 3
            let speed = (t - 9.5).square() * 0.75 + 1 + noise
            var params = Tensor([0.5, 0.5, 0.5] as [Float], device: device).requiringGrad()
            func predict(_ p: Tensor) -> Tensor { p[0] * t.square() + p[1] * t + p[2] }
            let before = (predict(params) - speed).square().mean().item()
            for _ in 0..<10 {
                let loss = (predict(params) - speed).square().mean()
                loss.backward()
                Tensor.withoutGrad { params -= params.grad! * Float(1e-5) }
                params.zeroGrad()
            }
            let after = (predict(params) - speed).square().mean().item()
            XCTAssertTrue(params.requiresGrad, "[\(device)] the update keeps the leaf")
            XCTAssertLessThan(after, before / 5, "[\(device)] the fit's loss fell from \(before) to \(after)")
        }
    }

    func testRunningProductsThroughZeros() {
        forEachDevice { device in
            // d sum(cumprod(x)) / d x_k = sum over j >= k of the product of x_i, i <= j, i != k.
            let once = Tensor([2, 0, 3, 4] as [Float], device: device, requiresGrad: true)
            once.cumprod(axis: 0).sum().backward()
            XCTAssertEqual(once.grad?.toArray(), [1, 32, 0, 0], "[\(device)] one zero: 2 + 2*3 + 2*3*4 at it, 0 past it")
            let twice = Tensor([[2, 0, 3, 0, 5], [1, 2, 3, 4, 5]] as [[Float]], device: device, requiresGrad: true)
            twice.cumprod(axis: 1).sum().backward()
            XCTAssertEqual(twice.grad?.toArray(), [1, 8, 0, 0, 0, 153, 76, 50, 36, 24], "[\(device)] two zeros in a row, and a row without")
            let product = Tensor([[2, 0, 3], [0, 0, 3], [1, 2, 4]] as [[Float]], device: device, requiresGrad: true)
            product.prod(axis: 1).sum().backward()
            XCTAssertEqual(product.grad?.toArray(), [0, 6, 0, 0, 0, 0, 8, 4, 2], "[\(device)] prod: the other factors' product")
        }
    }

    func testInPlaceOpsOnRecordedTensorsJoinTheirHistory() {
        forEachDevice { device in
            let x = Tensor([1, 2] as [Float], device: device, requiresGrad: true)
            var y = x * 2
            y *= x          // needs y's old value, 2x, for its gradient
            y += 1
            XCTAssertTrue(y.requiresGrad)
            y.sum().backward()
            XCTAssertEqual(x.grad?.toArray(), [4, 8], "[\(device)] d(2x^2 + 1)/dx through two in-place ops")

            let w = Tensor([1, 2] as [Float], device: device, requiresGrad: true)
            var total = Tensor.zeros([2], device: device)
            total += w * 3  // a plain buffer takes the history of what is added into it
            total += w
            var doubled = total * 1
            doubled += doubled
            doubled.sum().backward()
            XCTAssertEqual(w.grad?.toArray(), [8, 8], "[\(device)] 2 (3w + w) accumulated in place")

            let v = Tensor([5, 7] as [Float], device: device, requiresGrad: true)
            var grid = Tensor.zeros([3, 2], device: device)
            grid.copy(from: v)
            (grid * Tensor([[1, 1], [2, 2], [3, 3]] as [[Float]], device: device)).sum().backward()
            XCTAssertEqual(v.grad?.toArray(), [6, 6], "[\(device)] copy(from:) broadcasts, its gradient sums back")

            let s = Tensor([1, 2] as [Float], device: device, requiresGrad: true)
            var whole = s * 0
            whole[.all] = s * 2     // a subscript covering the whole tensor writes the variable itself
            whole.sum().backward()
            XCTAssertEqual(s.grad?.toArray(), [2, 2], "[\(device)] x[.all] = y takes y's history")

            let u = Tensor([1, 2] as [Float], device: device, requiresGrad: true)
            var filled = u * 2
            filled.fill(3)
            XCTAssertFalse(filled.requiresGrad, "[\(device)] a fill cuts the history")
            var scaled = u * 1
            scaled.zero()
            scaled += u
            (scaled * u).sum().backward()
            XCTAssertEqual(u.grad?.toArray(), [2, 4], "[\(device)] zero() forgets the old history, += adds the new")
        }
    }

    func testFloorHasAZeroGradient() {
        forEachDevice { device in
            let x = Tensor([1.5, -2.5] as [Float], device: device, requiresGrad: true)
            (x.floor() + x).sum().backward()
            XCTAssertEqual(x.grad?.toArray(), [1, 1], "[\(device)] floor passes 0, as in PyTorch")
        }
    }

    func testPowAtZeroBaseAndExponentIsFinite() {
        forEachDevice { device in
            let a = Tensor([0, 2] as [Float], device: device, requiresGrad: true)
            a.pow(Tensor([0, 3] as [Float], device: device)).sum().backward()
            XCTAssertEqual(a.grad?.toArray(), [0, 12], "[\(device)] d/da a^0 at 0 is 0, not NaN")
        }
    }

    func testRequiresGradInitialisers() throws {
        forEachDevice { device in
            let nested = Tensor([[1, 2], [3, 4]] as [[Float]], device: device, requiresGrad: true)
            let shaped = try! Tensor([1, 2, 3, 4] as [Float], shape: [2, 2], device: device, requiresGrad: true)
            let plain = Tensor([1, 2] as [Float], device: device, requiresGrad: false)
            XCTAssertTrue(nested.requiresGrad && shaped.requiresGrad)
            XCTAssertFalse(plain.requiresGrad)
            (nested * shaped).sum().backward()
            XCTAssertEqual(nested.grad?.toArray(), [1, 2, 3, 4], "[\(device)]")
        }
    }

    func testGradientsAccumulateUntilZeroed() {
        forEachDevice { device in
            let x = Tensor([1, 2] as [Float], device: device).requiringGrad()
            (x * 3).sum().backward()
            (x * x).sum().backward()
            XCTAssertEqual(x.grad?.toArray(), [5, 7], "[\(device)] 3 + 2x accumulated")
            x.zeroGrad()
            XCTAssertNil(x.grad)
            let y = x.detach()
            XCTAssertFalse((y * 2).requiresGrad, "[\(device)] detach cuts the graph")
            let z = Tensor([3, 5] as [Float], device: device, requiresGrad: true)
            (z.detach() * z).sum().backward()
            XCTAssertEqual(z.grad?.toArray(), [3, 5], "[\(device)] only the operand that requires grad gets one, even sharing storage")
            let inside = Tensor.withoutGrad { x * 2 }
            XCTAssertFalse(inside.requiresGrad, "[\(device)] nothing records inside withoutGrad")
            XCTAssertTrue(Tensor.isGradEnabled)
            XCTAssertFalse(Tensor.withoutGrad { Tensor.isGradEnabled })
            let (value, gradients) = Tensor.valueAndGrad(of: { p in (p[0] * p[1]).sum() },
                                                          at: [Tensor([2, 3] as [Float], device: device), Tensor([5, 7] as [Float], device: device)])
            XCTAssertEqual(value.item(), 31)
            XCTAssertEqual(gradients.map { $0.toArray() }, [[5, 7], [2, 3]], "[\(device)] valueAndGrad")
        }
    }

    /// A first gradient that nothing else holds becomes the leaf's grad without a copy (as
    /// PyTorch's AccumulateGrad steals it); one the graph shares, or the caller's own, is copied,
    /// so writing into a leaf's grad never changes another tensor.
    func testLeafGradientsAreKeptWithoutACopyOnlyWhenNothingElseHoldsThem() {
        final class Copies: OpObserver, @unchecked Sendable {
            var count = 0
            func record(_ record: OpRecord) { if case .contiguous = record.op { count += 1 } }
        }
        forEachDevice { device in
            let x = Tensor(randomFloats(12, seed: 3), device: device).reshape([3, 4])
            let w = Tensor(randomFloats(8, seed: 4), device: device).reshape([2, 4]).requiringGrad()
            let loss = x.matmul(w.T).square().sum()
            let copies = Copies()
            Tensor.observingOps(copies) { loss.backward() }
            XCTAssertEqual(copies.count, 0, "[\(device)] x @ w.T: the weight's gradient is kept as made")
            let expected = (x.T.matmul(x.matmul(w.detach().T) * 2)).T.toArray()
            XCTAssertEqual(w.grad!.toArray().map { ($0 * 1e4).rounded() }, expected.map { ($0 * 1e4).rounded() }, "[\(device)]")

            // One gradient shared by two leaves: each gets its own copy.
            let a = Tensor([1, 2] as [Float], device: device).requiringGrad()
            let b = Tensor([3, 4] as [Float], device: device).requiringGrad()
            (a + b).sum().backward()
            Tensor.withoutGrad {
                var aGrad = a.grad!
                aGrad += 10
            }
            XCTAssertEqual(a.grad!.toArray(), [11, 11], "[\(device)]")
            XCTAssertEqual(b.grad!.toArray(), [1, 1], "[\(device)] b's gradient is not a's")

            // The caller's gradient stays the caller's.
            let leaf = Tensor([1, 2] as [Float], device: device).requiringGrad()
            let given = Tensor([5, 6] as [Float], device: device)
            leaf.backward(gradient: given)
            Tensor.withoutGrad {
                var leafGrad = leaf.grad!
                leafGrad *= 2
            }
            XCTAssertEqual(given.toArray(), [5, 6], "[\(device)] backward(gradient:) keeps the caller's tensor")
            XCTAssertEqual(leaf.grad!.toArray(), [10, 12], "[\(device)]")
        }
    }

    func testTapesAreFreedAndMemoryStaysFlat() throws {
        for device in conformanceDevices() {
            let backend = try device.backend()
            let entriesBefore = Tapes.entryCount(on: device)
            var w = Tensor.randn([20, 5], device: device).requiringGrad()
            let x = Tensor.randn([16, 20], device: device), labels = Tensor.randint(0, 5, [16], device: device)
            func step() {
                let logits = x.matmul(w).logSoftmax(axis: -1)
                let loss = -logits.gather(axis: 1, index: labels.unsqueeze(axis: 1)).mean()
                loss.backward()
                XCTAssertGreaterThan(Tapes.entryCount(on: device), entriesBefore, "[\(device)] the step recorded")
                Tensor.withoutGrad { w -= w.grad! * Float(0.1) }
                w.zeroGrad()
            }
            for _ in 0..<20 { step() }
            _ = w.scalars(as: Float.self)
            let memory = backend.memoryStats
            for _ in 0..<1000 { step() }
            _ = w.scalars(as: Float.self)
            XCTAssertEqual(Tapes.entryCount(on: device), entriesBefore, "[\(device)] tape entries return to zero")
            XCTAssertEqual(backend.memoryStats.activeBytes, memory.activeBytes, "[\(device)] active bytes stay flat")
            XCTAssertEqual(backend.memoryStats.deviceAllocations, memory.deviceAllocations, "[\(device)] no new allocations")
        }
    }

    func testRecordingBelongsToTheTask() async {
        let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
        let recorded = await withTaskGroup(of: Bool.self) { group in
            group.addTask { Tensor.withoutGrad { (x * 2).requiresGrad } }   // a server's request
            group.addTask { (x * 2).requiresGrad }                          // a training step
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results.sorted { !$0 && $1 }
        }
        XCTAssertEqual(recorded, [false, true])
    }
}

private extension Tensor {
    /// [2, 3] -> [2, 6]: each column twice (a cat, for the test of cat's rule).
    var repeatedColumns: Tensor { Tensor.cat([self, self], axis: 1) }
}
