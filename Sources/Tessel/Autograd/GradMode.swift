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
        case .argsort, .full, .fromHost, .fromBytes, .warpAffine: return false
        default: return true
        }
    }
}
