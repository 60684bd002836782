import Tessel
import TesselNN

/// One benchmark: a kernel family at one shape, with the work it does per run.
struct BenchCase {
    /// Kernel family, as named by `--ops`.
    let family: String
    /// Human-readable shape, e.g. `1024x1024x1024` or `16777216`.
    let shape: String
    /// Floating-point operations per run (0 when bandwidth is the measure).
    let flops: Double
    /// Bytes read and written per run, at least once each.
    let bytes: Double
    /// Makes the inputs on a device, from a fixed seed: every device gets the same numbers.
    let inputs: (Device) -> [Tensor]
    /// The operation timed, on inputs of `device`.
    let operation: ([Tensor], Device) -> Tensor
    /// Calls of `operation` per timed run: the dispatch-overhead family times a loop of small
    /// calls (synchronised once at the end) and reports the time per call.
    var callsPerRun = 1
    /// For cases with state (a model and its optimizer): makes it on a device and returns one
    /// run, which gives the tensor to check. Used instead of `inputs` and `operation`.
    var makeRun: ((Device) -> () -> Tensor)? = nil

    /// GEMM and training steps report GFLOP/s; the overhead family microseconds per call;
    /// every other family is memory-bound and reports GB/s.
    var isComputeBound: Bool { family == "gemm" || family == "train-step" }
    var isOverhead: Bool { callsPerRun > 1 }
    /// Transfers move data rather than compute it: nothing to check against the CPU backend.
    var isCheckable: Bool { family != "transfer" }

    /// The inputs on `device` and the closure that runs the operation on them.
    func prepare(_ device: Device) -> () -> Void {
        Tensor.manualSeed(1)
        if let makeRun {
            let run = makeRun(device)
            return { _ = run() }
        }
        let made = inputs(device)
        let calls = callsPerRun
        return {
            for _ in 0..<calls { _ = operation(made, device) }
        }
    }

    /// Largest difference between this operation on `device` and on the CPU backend, relative
    /// to the largest magnitude of the CPU result (so a GEMM with long sums is judged fairly).
    func relativeErrorAgainstCPU(on device: Device) -> Float {
        func once(_ device: Device) -> Tensor {
            Tensor.manualSeed(1)
            if let makeRun { return makeRun(device)() }
            return operation(inputs(device), device)
        }
        let reference = once(.cpu).scalars(as: Float.self)
        let result = once(device).to(.cpu).scalars(as: Float.self)
        guard reference.count == result.count else { return .infinity }
        let scale = reference.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
        let worst = zip(reference, result).reduce(Float(0)) { worst, pair in
            pair.0.isNaN != pair.1.isNaN ? .infinity : Swift.max(worst, Swift.abs(pair.0 - pair.1))
        }
        return worst / Swift.max(scale, .leastNormalMagnitude)
    }
}

/// The families `tessel bench` knows, and the cases for each at the requested sizes.
enum BenchSuite {
    static let families = ["gemm", "unary", "add", "broadcast", "sum", "softmax", "transpose", "transfer", "overhead", "train-step"]

    /// The families run when `--ops` is not given: `overhead` measures dispatch and
    /// `train-step` whole training steps, not kernels; both are asked for by name.
    static let defaultFamilies = families.filter { $0 != "overhead" && $0 != "train-step" }

    /// Default GEMM shapes: squares, and the shapes an MNIST MLP runs (batch 128).
    static let defaultGemmShapes: [(Int, Int, Int)] = [
        (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096),
        (128, 784, 128), (128, 128, 10), (784, 128, 128),
    ]
    static let defaultElementCounts = [1 << 20, 1 << 24]

    static func cases(families: [String], gemmShapes: [(Int, Int, Int)], elementCounts: [Int]) -> [BenchCase] {
        families.flatMap { family -> [BenchCase] in
            switch family {
            case "gemm": return gemmShapes.map(gemm)
            case "unary": return elementCounts.map(unary)
            case "add": return elementCounts.map(add)
            case "broadcast": return elementCounts.flatMap { [broadcastRow($0), broadcastColumn($0)] }
            case "sum": return elementCounts.flatMap { [sumAll($0), sumLastAxis($0), sumFirstAxis($0)] }
            case "softmax": return elementCounts.map(softmaxRows)
            case "transpose": return elementCounts.map(transpose)
            case "transfer": return elementCounts.flatMap { [upload($0), download($0)] }
            case "overhead": return overhead
            case "train-step": return trainSteps
            default: return []
            }
        }
    }

    /// One training step (forward, cross-entropy, backward, SGD with momentum) at batch 128 of
    /// the MLP (784-100-10) and small CNN, from the same seeded model on every device.
    static var trainSteps: [BenchCase] {
        func step(_ name: String, input: [Int], flops: Double, _ makeModel: @escaping (Device) -> any Module) -> BenchCase {
            BenchCase(family: "train-step", shape: name, flops: flops, bytes: 0, inputs: { _ in [] }, operation: { x, _ in x[0] },
                      makeRun: { device in
                          let model = makeModel(device)
                          let optimizer = SGD(model.parameters, learningRate: 0.01, momentum: 0.9)
                          let x = Tensor.randn(input, generator: Generator(seed: 2), device: device)
                          let labels = Tensor.randint(0, 10, [input[0]], generator: Generator(seed: 3), device: device)
                          return {
                              let loss = crossEntropy(model(x), labels)
                              optimizer.zeroGrad()
                              loss.backward()
                              optimizer.step()
                              return loss.detach()
                          }
                      })
        }
        return [
            // 3 GEMMs per layer (forward, two gradients): 6 * batch * (784 * 100 + 100 * 10).
            step("mlp 784-100-10 batch 128", input: [128, 784], flops: 6 * 128 * (784 * 100 + 100 * 10)) { device in
                Sequential(Linear(784, 100, generator: Generator(seed: 1), device: device), ReLU(),
                           Linear(100, 10, generator: Generator(seed: 1), device: device))
            },
            // Per conv 6 * batch * outputs * (C * 9) per output position.
            step("cnn batch 128", input: [128, 1, 28, 28], flops: 6 * 128 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 1600 * 10)) { device in
                Sequential(Conv2d(1, 32, kernelSize: 3, generator: Generator(seed: 1), device: device), ReLU(), MaxPool2d(2),
                           Conv2d(32, 64, kernelSize: 3, generator: Generator(seed: 1), device: device), ReLU(), MaxPool2d(2),
                           Flatten(), Linear(1600, 10, generator: Generator(seed: 1), device: device))
            },
        ]
    }

    /// Calls per timed run of an overhead case.
    static let overheadCalls = 1000

    /// Small ops timed per call, kernel included: on [128, 100] (an MLP's activations, where an
    /// in-cache add needs ~0.5 us of memory traffic) and on 4 elements (where the kernel costs
    /// nothing and the figure is the dispatch itself). Named as `Benchmarks/compare.py` names
    /// the same calls through PyTorch.
    static var overhead: [BenchCase] {
        [[128, 100], [4]].flatMap { shape -> [BenchCase] in
            let label = shape.map(String.init).joined(separator: ",")
            let last = [shape[shape.count - 1]]
            func call(_ name: String, _ inputs: @escaping (Device) -> [Tensor], _ op: @escaping ([Tensor]) -> Tensor) -> BenchCase {
                BenchCase(family: "overhead", shape: "\(name) [\(label)]", flops: 0, bytes: 0, inputs: inputs,
                          operation: { x, _ in op(x) }, callsPerRun: overheadCalls)
            }
            let two: (Device) -> [Tensor] = { [Tensor.rand(shape, device: $0), Tensor.rand(shape, device: $0)] }
            let one: (Device) -> [Tensor] = { [Tensor.rand(shape, device: $0)] }
            var cases = [
                call("add", two) { $0[0] + $0[1] },
                call("mul scalar", one) { $0[0] * 2 },
                call("relu", one) { $0[0].relu() },
            ]
            if shape.count > 1 {
                cases.append(call("add broadcast", { [Tensor.rand(shape, device: $0), Tensor.rand(last, device: $0)] }) { $0[0] + $0[1] })
            }
            cases += [
                call("sum", one) { $0[0].sum() },
                call("add inplace", two) { x in
                    var target = x[0]
                    target += x[1]
                    return target
                },
            ]
            return cases
        }
    }

    /// A [rows, columns] split of `count` elements with 1024-wide rows (MNIST-like batches are narrower,
    /// but wide rows are where reduction kernels differ).
    private static func matrix(_ count: Int) -> (Int, Int) { (Swift.max(count / 1024, 1), Swift.min(count, 1024)) }

    static func gemm(_ shape: (Int, Int, Int)) -> BenchCase {
        let (m, k, n) = shape
        return BenchCase(family: "gemm", shape: "\(m)x\(k)x\(n)", flops: 2 * Double(m * n * k),
                         bytes: 4 * Double(m * k + k * n + m * n),
                         inputs: { [Tensor.randn([m, k], device: $0), Tensor.randn([k, n], device: $0)] },
                         operation: { x, _ in x[0].matmul(x[1]) })
    }

    static func unary(_ count: Int) -> BenchCase {
        BenchCase(family: "unary", shape: "exp \(count)", flops: Double(count), bytes: 8 * Double(count),
                  inputs: { [Tensor.rand([count], device: $0)] }, operation: { x, _ in x[0].exp() })
    }

    static func add(_ count: Int) -> BenchCase {
        BenchCase(family: "add", shape: "\(count)", flops: Double(count), bytes: 12 * Double(count),
                  inputs: { [Tensor.rand([count], device: $0), Tensor.rand([count], device: $0)] },
                  operation: { x, _ in x[0] + x[1] })
    }

    static func broadcastRow(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "broadcast", shape: "[\(rows),\(columns)]+[\(columns)]", flops: Double(count),
                         bytes: 8 * Double(count),
                         inputs: { [Tensor.rand([rows, columns], device: $0), Tensor.rand([columns], device: $0)] },
                         operation: { x, _ in x[0] + x[1] })
    }

    static func broadcastColumn(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "broadcast", shape: "[\(rows),\(columns)]+[\(rows),1]", flops: Double(count),
                         bytes: 8 * Double(count),
                         inputs: { [Tensor.rand([rows, columns], device: $0), Tensor.rand([rows, 1], device: $0)] },
                         operation: { x, _ in x[0] + x[1] })
    }

    static func sumAll(_ count: Int) -> BenchCase {
        BenchCase(family: "sum", shape: "all of \(count)", flops: Double(count), bytes: 4 * Double(count),
                  inputs: { [Tensor.rand([count], device: $0)] }, operation: { x, _ in x[0].sum() })
    }

    static func sumLastAxis(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "sum", shape: "[\(rows),\(columns)] axis -1", flops: Double(count),
                         bytes: 4 * Double(count),
                         inputs: { [Tensor.rand([rows, columns], device: $0)] }, operation: { x, _ in x[0].sum(axis: -1) })
    }

    static func sumFirstAxis(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "sum", shape: "[\(rows),\(columns)] axis 0", flops: Double(count),
                         bytes: 4 * Double(count),
                         inputs: { [Tensor.rand([rows, columns], device: $0)] }, operation: { x, _ in x[0].sum(axis: 0) })
    }

    /// A transposed matrix made contiguous (a strided copy: what `contiguous()` does after
    /// `permute`, or an im2col gather).
    static func transpose(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "transpose", shape: "[\(rows),\(columns)].T", flops: 0, bytes: 8 * Double(count),
                         inputs: { [Tensor.rand([rows, columns], device: $0)] },
                         operation: { x, _ in x[0].T.contiguous() })
    }

    static func softmaxRows(_ count: Int) -> BenchCase {
        let (rows, columns) = matrix(count)
        return BenchCase(family: "softmax", shape: "[\(rows),\(columns)] rows", flops: 5 * Double(count),
                         bytes: 8 * Double(count),
                         inputs: { [Tensor.randn([rows, columns], device: $0)] }, operation: { x, _ in x[0].softmax(axis: -1) })
    }

    static func upload(_ count: Int) -> BenchCase {
        let host = [Float](repeating: 1, count: count)
        return BenchCase(family: "transfer", shape: "host->device \(count)", flops: 0, bytes: 4 * Double(count),
                         inputs: { _ in [] }, operation: { _, device in Tensor(host, device: device) })
    }

    /// Into one host buffer reused by every run: a fresh array's page faults would dominate.
    static func download(_ count: Int) -> BenchCase {
        let host = UncheckedHostBuffer(count: count)
        return BenchCase(family: "transfer", shape: "device->host \(count)", flops: 0, bytes: 4 * Double(count),
                         inputs: { [Tensor.rand([count], device: $0)] },
                         operation: { x, _ in
                             x[0].copyScalars(into: host.floats)
                             return x[0]
                         })
    }
}

/// A host buffer a benchmark writes into on every run (freed with the process).
final class UncheckedHostBuffer: @unchecked Sendable {
    let floats: UnsafeMutableBufferPointer<Float>
    init(count: Int) {
        floats = .allocate(capacity: count)
        floats.initialize(repeating: 0)
    }
    deinit { floats.deallocate() }
}
