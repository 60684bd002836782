import Foundation
import XCTest
import Tessel
import TesselNN

/// TesselNN's layers, losses and optimizers against PyTorch (Tests/Fixtures/nn.json, written by
/// Tests/Fixtures/make_nn_fixtures.py), on every device.
final class NNTests: XCTestCase {
    struct Values: Decodable {
        let shape: [Int]
        let values: [Double]
        func tensor(_ device: Device) -> Tensor { Tensor(values.map(Float.init), device: device).reshape(shape) }
        func ints(_ device: Device) -> Tensor { Tensor(values.map { Int32($0) }, device: device).reshape(shape) }
    }
    struct MLP: Decodable {
        let names: [String]
        let parameters: [String: Values]
        let x, labels, logits, loss: Values
        let grads: [String: Values]
    }
    struct Losses: Decodable {
        let logits, labels, probabilities, binary, regression: Values
        let cross_entropy, cross_entropy_smoothed, cross_entropy_smoothed_grad, nll, mse, l1, bce, bce_logits: Values
    }
    struct Optimizers: Decodable {
        let start, centre, scale: Values
        let sgd, sgd_momentum, sgd_nesterov_decay, adam, adam_decay, adamw: Values
    }
    struct Norm: Decodable {
        let weight, bias, first, second, train_output, weight_grad, bias_grad, running_mean, running_var, eval_output: Values
    }
    struct Rates: Decodable { let lr, momentum: Values }
    struct Schedules: Decodable { let step, cosine, one_cycle: Rates }
    struct Convolution: Decodable {
        let config: [Int]
        let weight, bias, x, y, x_grad, weight_grad, bias_grad: Values
    }
    struct Pool: Decodable {
        let kind: String
        let config: [Int]
        let x, y, x_grad: Values
    }
    struct File: Decodable {
        let convolutions: [Convolution]
        let pools: [Pool]
        let mlp: MLP
        let losses: Losses
        let optimizers: Optimizers
        let batchnorm: [String: Norm]
        let schedules: Schedules
    }

    func fixtures() throws -> File {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    var devices: [Device] { Device.all }

    func assertClose(_ tensor: Tensor, _ expected: Values, _ what: String, tolerance: Float = 1e-5,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(tensor.shape, expected.shape, what, file: file, line: line)
        for (got, want) in zip(tensor.scalars(as: Float.self), expected.values) {
            XCTAssertEqual(Double(got), want, accuracy: Double(tolerance) * Swift.max(1, Swift.abs(want)), what, file: file, line: line)
        }
    }

    func testSequentialNamesForwardAndGradientsMatchPyTorch() throws {
        let f = try fixtures().mlp
        for device in devices {
            let model = Sequential(Linear(5, 4, device: device), ReLU(), Linear(4, 3, device: device))
            XCTAssertEqual(model.namedParameters.map(\.name), f.names, "[\(device)] state_dict names")
            model.load(f.parameters.mapValues { $0.tensor(device) })
            let logits = model(f.x.tensor(device))
            assertClose(logits, f.logits, "[\(device)] logits")
            let loss = crossEntropy(logits, f.labels.ints(device))
            assertClose(loss, f.loss, "[\(device)] loss")
            loss.backward()
            for (name, parameter) in model.namedParameters {
                guard let grad = parameter.grad, let expected = f.grads[name] else { return XCTFail("[\(device)] no grad for \(name)") }
                assertClose(grad, expected, "[\(device)] grad of \(name)", tolerance: 1e-4)
            }
        }
    }

    func testLinearInitialisationIsPyTorchs() {
        for device in devices {
            let layer = Linear(400, 50, generator: Generator(seed: 3), device: device)
            let bound = 1 / Float(400).squareRoot()
            XCTAssertLessThanOrEqual(layer.weight.abs().max().item(), bound, "[\(device)]")
            XCTAssertGreaterThan(layer.weight.abs().max().item(), bound * 0.99, "[\(device)] fills the range")
            XCTAssertEqual(layer.weight.mean().item(), 0, accuracy: bound / 20, "[\(device)]")
            XCTAssertLessThanOrEqual(layer.bias!.abs().max().item(), bound)
            let again = Linear(400, 50, generator: Generator(seed: 3), device: device)
            XCTAssertEqual(again.weight.toArray(), layer.weight.toArray(), "[\(device)] the generator makes it reproducible")
            XCTAssertTrue(layer.weight.requiresGrad && layer.bias!.requiresGrad)
        }
    }

    func testLossesMatchPyTorch() throws {
        let f = try fixtures().losses
        for device in devices {
            let z = f.logits.tensor(device), labels = f.labels.ints(device)
            assertClose(crossEntropy(z, labels), f.cross_entropy, "[\(device)] cross_entropy")
            assertClose(nllLoss(z.logSoftmax(axis: -1), labels), f.nll, "[\(device)] nll_loss")
            assertClose(mseLoss(z, f.regression.tensor(device)), f.mse, "[\(device)] mse_loss")
            assertClose(l1Loss(z, f.regression.tensor(device)), f.l1, "[\(device)] l1_loss")
            assertClose(binaryCrossEntropy(f.probabilities.tensor(device), f.binary.tensor(device)), f.bce, "[\(device)] bce")
            assertClose(binaryCrossEntropyWithLogits(z, f.binary.tensor(device)), f.bce_logits, "[\(device)] bce_with_logits")
            let leaf = z.requiringGrad()
            let smoothed = crossEntropy(leaf, labels, labelSmoothing: 0.1)
            assertClose(smoothed, f.cross_entropy_smoothed, "[\(device)] label smoothing")
            smoothed.backward()
            assertClose(leaf.grad!, f.cross_entropy_smoothed_grad, "[\(device)] label smoothing grad")
            // The lesson's loss: sigmoid, then the distance from the target.
            let predictions = Tensor([2, -1, 0.5] as [Float], device: device), targets = Tensor([1, 0, 1] as [Float], device: device)
            let p = [2, -1, 0.5].map { 1 / (1 + Foundation.exp(-$0)) }
            XCTAssertEqual(mnistLoss(predictions, targets).item(), Float(((1 - p[0]) + p[1] + (1 - p[2])) / 3), accuracy: 1e-6)
        }
    }

    func testOptimizersMatchPyTorch() throws {
        let f = try fixtures().optimizers
        let runs: [(String, Values, ([Tensor]) -> any Optimizer)] = [
            ("sgd", f.sgd, { SGD($0, learningRate: 0.1) }),
            ("sgd momentum", f.sgd_momentum, { SGD($0, learningRate: 0.1, momentum: 0.9) }),
            ("sgd nesterov decay", f.sgd_nesterov_decay, { SGD($0, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01) }),
            ("adam", f.adam, { Adam($0, learningRate: 0.1) }),
            ("adam decay", f.adam_decay, { Adam($0, learningRate: 0.1, weightDecay: 0.1) }),
            ("adamw", f.adamw, { AdamW($0, learningRate: 0.1, weightDecay: 0.1) }),
        ]
        for device in devices {
            let centre = f.centre.tensor(device), scale = f.scale.tensor(device)
            for (name, expected, make) in runs {
                let p = f.start.tensor(device).requiringGrad()
                let optimizer = make([p])
                var trajectory: [Float] = []
                for _ in 0..<5 {
                    optimizer.zeroGrad()
                    (scale * (p - centre).square()).sum().backward()
                    optimizer.step()
                    trajectory += p.scalars(as: Float.self)
                }
                XCTAssertTrue(p.requiresGrad, "[\(device)] \(name): the parameter stays a leaf")
                for (got, want) in zip(trajectory, expected.values) {
                    XCTAssertEqual(Double(got), want, accuracy: 1e-5 * Swift.max(1, Swift.abs(want)), "[\(device)] \(name)")
                }
            }
        }
    }

    /// After the first step the optimizers' state exists and every later step reuses pooled
    /// blocks: no new device allocations, no growth in live bytes.
    func testOptimizerStepsKeepMemoryFlat() throws {
        for device in devices {
            let backend = try device.backend()
            let model = Sequential(Linear(50, 20, device: device), ReLU(), Linear(20, 5, device: device))
            let x = Tensor.randn([32, 50], device: device), labels = Tensor.randint(0, 5, [32], device: device)
            for optimizer in [SGD(model.parameters, learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4),
                              Adam(model.parameters, learningRate: 1e-3, weightDecay: 1e-4)] as [any Optimizer] {
                func step() {
                    let loss = crossEntropy(model(x), labels)
                    optimizer.zeroGrad()
                    loss.backward()
                    optimizer.step()
                }
                for _ in 0..<5 { step() }
                _ = model.parameters[0].scalars(as: Float.self)
                let before = backend.memoryStats
                for _ in 0..<200 { step() }
                _ = model.parameters[0].scalars(as: Float.self)
                XCTAssertEqual(backend.memoryStats.deviceAllocations, before.deviceAllocations, "[\(device)] \(type(of: optimizer))")
                XCTAssertEqual(backend.memoryStats.activeBytes, before.activeBytes, "[\(device)] \(type(of: optimizer))")
            }
        }
    }

    func testLoadKeepsTheParametersAnOptimizerHolds() {
        for device in devices {
            let layer = Linear(3, 2, device: device)
            let optimizer = SGD(layer.parameters, learningRate: 0.5)
            layer.load(["weight": Tensor.zeros([2, 3], device: .cpu), "bias": Tensor([1, 2] as [Int32], device: .cpu)])
            XCTAssertEqual(layer.bias!.toArray(), [1, 2], "[\(device)] int32 values converted, moved to the device")
            XCTAssertEqual(layer.bias!.device, device)
            layer(Tensor.ones([1, 3], device: device)).sum().backward()
            optimizer.step()
            XCTAssertEqual(layer.bias!.toArray(), [0.5, 1.5], "[\(device)] the optimizer made before load still updates the loaded bias")
        }
    }

    func testBinaryLossesAtTheirEdges() {
        for device in devices {
            let logits = Tensor.zeros([4], device: device).requiringGrad()
            let targets = Tensor([1, 0, 1, 1] as [Float], device: device)
            binaryCrossEntropyWithLogits(logits, targets).backward()
            XCTAssertEqual(logits.grad?.toArray(), [-0.125, 0.125, -0.125, -0.125], "[\(device)] (sigmoid(0) - t) / n at logits 0")
            let p = Tensor([0, 1, 0.5] as [Float], device: device).requiringGrad()
            let loss = binaryCrossEntropy(p, Tensor([1, 0, 1] as [Float], device: device))
            XCTAssertEqual(loss.item(), Float((100 + 100 + Foundation.log(2.0)) / 3), accuracy: 1e-4, "[\(device)] log clamped at -100")
            loss.backward()
            XCTAssertTrue(p.grad!.toArray().allSatisfy(\.isFinite), "[\(device)] finite gradient at p = 0 and 1: \(p.grad!.toArray())")
        }
    }

    func testAnMLPLearnsAndMovesBetweenDevices() {
        for device in devices {
            Tensor.manualSeed(5)
            let model = Sequential(Linear(2, 16, device: .cpu), Tanh(), Linear(16, 2, device: .cpu))
            model.to(device)
            XCTAssertTrue(model.parameters.allSatisfy { $0.device == device && $0.requiresGrad }, "[\(device)]")
            // Two interleaved classes on a plane: points inside the unit circle or outside.
            let x = Tensor.uniform([256, 2], low: -1.5, high: 1.5, generator: Generator(seed: 8), device: device)
            let labels = ((x.square().sum(axis: 1) .< Float(1)).cast(.int32))
            let optimizer = Adam(model.parameters, learningRate: 0.05)
            var first: Float = 0, last: Float = 0
            for step in 0..<150 {
                let loss = crossEntropy(model(x), labels)
                if step == 0 { first = loss.item() }
                last = loss.item()
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
            }
            XCTAssertLessThan(last, first / 3, "[\(device)] the loss fell from \(first) to \(last)")
            let accuracy = (model(x).argmax(axis: 1) .== labels).cast(.float32).mean().item()
            XCTAssertGreaterThan(accuracy, 0.9, "[\(device)] accuracy \(accuracy)")
        }
    }

    func testBatchNormMatchesPyTorchInTrainingAndEvaluation() throws {
        let norms = try fixtures().batchnorm
        for device in devices {
            for (name, f) in norms.sorted(by: { $0.key < $1.key }) {
                let layer = BatchNorm(f.weight.shape[0], device: device)
                layer.load(["weight": f.weight.tensor(device), "bias": f.bias.tensor(device)])
                XCTAssertEqual(layer.namedParameters.map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
                let y = layer(f.first.tensor(device))
                assertClose(y, f.train_output, "[\(device)] \(name) training output", tolerance: 1e-4)
                let waves = Tensor.arange(Float(0), Float(y.count), device: device).sin().reshape(y.shape)
                (y * waves).sum().backward()
                assertClose(layer.weight.grad!, f.weight_grad, "[\(device)] \(name) weight grad", tolerance: 1e-4)
                assertClose(layer.bias.grad!, f.bias_grad, "[\(device)] \(name) bias grad", tolerance: 1e-4)
                _ = layer(f.second.tensor(device))
                assertClose(layer.runningMean, f.running_mean, "[\(device)] \(name) running mean", tolerance: 1e-4)
                assertClose(layer.runningVar, f.running_var, "[\(device)] \(name) running var (unbiased)", tolerance: 1e-4)
                XCTAssertEqual(layer.batchesTracked.item(as: Int32.self), 2)
                layer.eval()
                assertClose(layer(f.first.tensor(device)), f.eval_output, "[\(device)] \(name) evaluation output", tolerance: 1e-4)
            }
        }
    }

    func testDropoutDropsAndScalesOnlyInTraining() {
        for device in devices {
            let layer = Dropout(0.25, generator: Generator(seed: 2))
            let x = Tensor.ones([100, 100], device: device)
            let y = layer(x).scalars(as: Float.self)
            let dropped = Float(y.filter { $0 == 0 }.count) / Float(y.count)
            XCTAssertEqual(dropped, 0.25, accuracy: 0.02, "[\(device)] drop rate")
            XCTAssertTrue(y.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.75) < 1e-6 }, "[\(device)] kept values are scaled")
            layer.eval()
            XCTAssertEqual(layer(x).toArray(), x.toArray(), "[\(device)] identity in evaluation")
            XCTAssertEqual(Dropout(1).callAsFunction(x).max().item(), 0, "[\(device)] p = 1 drops everything")
        }
    }

    func testSchedulesMatchPyTorch() throws {
        let f = try fixtures().schedules
        for step in 0..<20 {
            XCTAssertEqual(Double(stepSchedule(base: 0.5, step: step, stepSize: 6, gamma: 0.5)), f.step.lr.values[step], accuracy: 1e-6)
            XCTAssertEqual(Double(cosineSchedule(base: 0.5, minimum: 0.01, step: step, total: 20)), f.cosine.lr.values[step], accuracy: 1e-6)
            // PyTorch's final_div_factor default (1e4); the schedule's own default is fastai's 1e5.
            let (rate, momentum) = OneCycleSchedule(maximum: 0.5, total: 20, warmup: 0.25, finalDivFactor: 1e4).values(at: step)
            XCTAssertEqual(Double(rate), f.one_cycle.lr.values[step], accuracy: 1e-6 + 1e-5 * f.one_cycle.lr.values[step], "one-cycle rate \(step)")
            XCTAssertEqual(Double(momentum), f.one_cycle.momentum.values[step], accuracy: 1e-6, "one-cycle momentum \(step)")
        }
    }

    /// sum(y * sin(arange)): the fixtures' loss, so every output element gets its own weight.
    private func weighted(_ y: Tensor) -> Tensor {
        (y * Tensor.arange(Float(0), Float(y.count), device: y.device).sin().reshape(y.shape)).sum()
    }

    func testConvolutionsMatchPyTorch() throws {
        let cases = try fixtures().convolutions
        for device in devices {
            for f in cases {
                let c = f.config
                // NCHW memory, and the same values channels-last (as a previous layer leaves them).
                for channelsLast in [false, true] {
                    let layer = Conv2d(c[0], c[1], kernelSize: c[2], stride: c[3], padding: c[4], dilation: c[5], device: device)
                    layer.load(["weight": f.weight.tensor(device), "bias": f.bias.tensor(device)])
                    let values = f.x.tensor(device)
                    let x = (channelsLast ? values.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : values).requiringGrad()
                    let y = layer(x)
                    let name = "[\(device)] conv \(c)\(channelsLast ? " channels-last" : "")"
                    assertClose(y, f.y, "\(name) forward", tolerance: 1e-4)
                    weighted(y).backward()
                    assertClose(x.grad!, f.x_grad, "\(name) input grad", tolerance: 1e-4)
                    assertClose(layer.weight.grad!, f.weight_grad, "\(name) weight grad", tolerance: 1e-4)
                    assertClose(layer.bias!.grad!, f.bias_grad, "\(name) bias grad", tolerance: 1e-4)
                }
            }
        }
    }

    func testPoolsMatchPyTorch() throws {
        let cases = try fixtures().pools
        for device in devices {
            for f in cases {
                let c = f.config
                let pool: Lambda = f.kind == "max" ? MaxPool2d(c[0], stride: c[1], padding: c[2]) : AvgPool2d(c[0], stride: c[1], padding: c[2])
                // NCHW memory, and the same values channels-last (as a convolution leaves them).
                for channelsLast in [false, true] {
                    let values = f.x.tensor(device)
                    let x = (channelsLast ? values.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : values).requiringGrad()
                    let y = pool(x)
                    assertClose(y, f.y, "[\(device)] \(f.kind) pool \(c) forward, channels-last \(channelsLast)")
                    // Inference (nothing to record): max pooling is then one windowMax kernel.
                    assertClose(Tensor.withoutGrad { pool(x) }, f.y, "[\(device)] \(f.kind) pool \(c) inference, channels-last \(channelsLast)")
                    weighted(y).backward()
                    assertClose(x.grad!, f.x_grad, "[\(device)] \(f.kind) pool \(c) grad, channels-last \(channelsLast)", tolerance: 1e-4)
                }
            }
        }
    }

    func testTheIssuesSmallCNNRunsAStep() {
        for device in devices {
            let model = Sequential(Conv2d(1, 32, kernelSize: 3, device: device), ReLU(), MaxPool2d(2),
                                   Conv2d(32, 64, kernelSize: 3, device: device), ReLU(), MaxPool2d(2),
                                   Flatten(), Linear(1600, 10, device: device))
            XCTAssertEqual(model.namedParameters.map(\.name), ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"])
            let x = Tensor.randn([4, 1, 28, 28], device: device), labels = Tensor([1, 7, 3, 0] as [Int32], device: device)
            let optimizer = SGD(model.parameters, learningRate: 0.01, momentum: 0.9)
            let first = crossEntropy(model(x), labels)
            XCTAssertEqual(model(x).shape, [4, 10])
            first.backward()
            optimizer.step()
            optimizer.zeroGrad()
            for _ in 0..<5 {
                let loss = crossEntropy(model(x), labels)
                loss.backward()
                optimizer.step()
                optimizer.zeroGrad()
            }
            XCTAssertLessThan(crossEntropy(model(x), labels).item(), first.item(), "[\(device)] the CNN's loss falls")
        }
    }
}

/// The README's TesselNN example, as written there (with a small batch).
final class ReadmeNNExampleTests: XCTestCase {
    func testReadmeExample() {
        Device.withDefault(.cpu) {
            let images = Tensor.randn([2, 1, 28, 28]), labels = Tensor([3, 7] as [Int32])
            let model = Sequential(Conv2d(1, 32, kernelSize: 3), ReLU(), MaxPool2d(2),
                                   Conv2d(32, 64, kernelSize: 3), ReLU(), MaxPool2d(2),
                                   Flatten(), Linear(1600, 10))
            let optimizer = SGD(model.parameters, learningRate: 0.01, momentum: 0.9)
            let loss = crossEntropy(model(images), labels)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            XCTAssertEqual(model.namedParameters.map(\.name), ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"])
        }
    }
}
