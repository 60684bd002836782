import Foundation

/// Learning-rate (and momentum) schedules: set an optimizer's rate before each step.

/// The rate times `gamma` every `stepSize` steps, as `torch.optim.lr_scheduler.StepLR`.
public func stepSchedule(base: Float, step: Int, stepSize: Int, gamma: Float = 0.1) -> Float {
    base * Float(Foundation.pow(Double(gamma), Double(step / stepSize)))
}

/// Cosine annealing from `base` to `minimum` over `total` steps, as `CosineAnnealingLR`.
public func cosineSchedule(base: Float, minimum: Float = 0, step: Int, total: Int) -> Float {
    minimum + (base - minimum) * Float(1 + Foundation.cos(Double.pi * Double(step) / Double(total))) / 2
}

/// fastai's `fit_one_cycle` (PyTorch's `OneCycleLR` with cosine annealing): the rate rises
/// from `maximum / divFactor` to `maximum` over the first `warmup` share of the steps, then
/// falls to `maximum / (divFactor * finalDivFactor)`; momentum moves the other way, between
/// `momentum.high` and `momentum.low`.
public struct OneCycleSchedule: Sendable {
    public let maximum: Float
    public let total: Int
    public let warmup: Double
    public let divFactor: Float, finalDivFactor: Float
    public let momentum: (high: Float, low: Float)

    public init(maximum: Float, total: Int, warmup: Double = 0.25, divFactor: Float = 25, finalDivFactor: Float = 1e5,
                momentum: (high: Float, low: Float) = (0.95, 0.85)) {
        self.maximum = maximum
        self.total = total
        self.warmup = warmup
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.momentum = momentum
    }

    /// The rate and momentum for step `step` (0-based) of `total`.
    public func values(at step: Int) -> (learningRate: Float, momentum: Float) {
        let initial = maximum / divFactor, final = initial / finalDivFactor
        // OneCycleLR's phase ends: step warmup * total - 1, then total - 1.
        let warmEnd = Double(warmup) * Double(total) - 1, end = Double(total) - 1
        func anneal(_ start: Float, _ stop: Float, _ fraction: Double) -> Float {
            stop + (start - stop) * Float(1 + Foundation.cos(Double.pi * fraction)) / 2
        }
        if Double(step) <= warmEnd {
            let fraction = warmEnd > 0 ? Double(step) / warmEnd : 1
            return (anneal(initial, maximum, fraction), anneal(momentum.high, momentum.low, fraction))
        }
        let fraction = (Double(step) - warmEnd) / (end - warmEnd)
        return (anneal(maximum, final, fraction), anneal(momentum.low, momentum.high, fraction))
    }
}
