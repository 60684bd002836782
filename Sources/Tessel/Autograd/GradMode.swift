/// Whether ops record for autograd in the current task: on, except inside `Tensor.withoutGrad`.
/// Task-local, so an inference server's tasks can run without recording while a training
/// loop in the same process records.
enum GradMode {
    @TaskLocal static var isEnabled = true
}

extension Op {
    /// False for the ops whose result has no gradient with respect to their inputs
    /// (comparisons, integer division, sorting positions, arg-reductions). `floor` is recorded
    /// with a zero gradient, as in PyTorch.
    var isDifferentiable: Bool {
        switch self {
        case .binary(let op): return !op.isComparison && op != .floorDivide
        case .reduce(let op, _): return !op.isArg
        case .argsort, .full, .fromHost, .fromBytes, .unpackBytes, .warpAffine, .windowArgmax: return false
        default: return true
        }
    }

    /// True for the ops whose gradient rule reads the output (exp, sqrt, softmax, ...): only
    /// then must the output be unchanged at backward. An in-place op's output is the
    /// destination, which later writes may change again; none of these run in place.
    var gradientReadsOutput: Bool {
        switch self {
        case .unary(let op): return [.exp, .sqrt, .tanh, .sigmoid].contains(op)
        case .binary(let op): return op == .pow
        case .softmax: return true
        case .reduce(let op, _): return op == .max || op == .min
        case .scan(let scan, _): return scan == .prod
        default: return false
        }
    }
}

extension Op {
    /// False for the ops whose gradient rule uses only shapes and layouts, never the values of
    /// the inputs or the output (views, copies, sums): an in-place write after such an op does
    /// not invalidate its entry, as PyTorch checks only the tensors a formula saves.
    var gradientReadsValues: Bool {
        switch self {
        case .reshape, .permute, .expand, .slice, .asStrided, .contiguous, .cast, .transfer, .cat, .assign, .pad,
             .unfold, .fold, .full, .fromHost, .fromBytes:
            return false
        case .binary(let op): return op != .add && op != .sub
        case .reduce(let op, _): return op != .sum
        case .scan(let scan, _): return scan != .sum
        default: return true
        }
    }
}
