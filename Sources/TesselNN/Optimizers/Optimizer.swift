import Foundation
import Tessel

/// Updates parameters in place from their gradients, as `torch.optim`'s optimizers. Steps run
/// without recording, allocate their state once (on the first step), and keep each parameter
/// the same leaf. Values that change from step to step (a scheduled rate, Adam's bias
/// corrections) enter as one 0-d tensor per step and device, not as Swift scalars, which the
/// tensor layer would cache as constants.
public protocol Optimizer: AnyObject {
    /// The learning rate (schedules set it between steps).
    var learningRate: Float { get set }
    /// One update of every parameter that has a gradient.
    func step()
    /// Forgets every parameter's gradient.
    func zeroGrad()
}

/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and weight
/// decay, exactly as `torch.optim.SGD` (dampening 0).
public final class SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private let parameters: [Tensor]
    private var velocities: [Tensor?]

    public init(_ parameters: [Tensor], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocities = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        // The update is added times -rate: one fused pass over the parameter, no temporary.
        let negativeRate = StepScalars(-learningRate)
        Tensor.withoutGrad {
            for (index, parameter) in parameters.enumerated() {
                guard var update = parameter.grad else { continue }
                if weightDecay != 0 { update = update.addingProduct(parameter, weightDecay) }
                if momentum != 0 {
                    if var velocity = velocities[index] {
                        velocity.multiply(by: momentum, adding: update)
                    } else {
                        velocities[index] = update.clone()
                    }
                    let velocity = velocities[index]!
                    update = nesterov ? update.addingProduct(velocity, momentum) : velocity
                }
                var target = parameter
                target.addProduct(update, negativeRate.on(parameter.device))
            }
        }
    }

    public func zeroGrad() { for parameter in parameters { parameter.zeroGrad() } }
}

/// Adam, and with `decoupledWeightDecay` AdamW, as `torch.optim.Adam`/`AdamW` (bias-corrected
/// moments, epsilon added to the corrected root).
public final class Adam: Optimizer {
    public var learningRate: Float
    /// beta1 is settable so a one-cycle schedule can cycle it as fastai cycles momentum.
    public var beta1: Float
    public let beta2: Float, epsilon: Float
    public let weightDecay: Float
    /// AdamW: the decay shrinks the parameter directly instead of entering the gradient.
    public let decoupledWeightDecay: Bool
    private let parameters: [Tensor]
    private var moments: [(first: Tensor, second: Tensor)?]
    /// Steps per parameter, counted only when it had a gradient (as PyTorch's state["step"]).
    private var steps: [Int]

    public init(_ parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        moments = Array(repeating: nil, count: parameters.count)
        steps = Array(repeating: 0, count: parameters.count)
    }

    public func step() {
        let decay = StepScalars(1 - learningRate * weightDecay)
        // Per step count (parameters that got gradients at different times differ).
        var corrections: [Int: (stepSize: StepScalars, rootCorrection: StepScalars)] = [:]
        Tensor.withoutGrad {
            for (index, parameter) in parameters.enumerated() {
                guard var gradient = parameter.grad else { continue }
                steps[index] += 1
                let t = steps[index]
                if corrections[t] == nil {
                    let correction1 = 1 - Foundation.pow(Double(beta1), Double(t)), correction2 = 1 - Foundation.pow(Double(beta2), Double(t))
                    // update = lr / c1 * m / (sqrt(v) / sqrt(c2) + eps), as PyTorch computes it.
                    corrections[t] = (StepScalars(Float(Double(learningRate) / correction1)), StepScalars(Float(correction2.squareRoot())))
                }
                let (stepSize, rootCorrection) = corrections[t]!
                var target = parameter
                if weightDecay != 0 {
                    if decoupledWeightDecay { target *= decay.on(parameter.device) } else { gradient = gradient.addingProduct(parameter, weightDecay) }
                }
                if moments[index] == nil {
                    moments[index] = (Tensor.zeros(parameter.shape, device: parameter.device),
                                      Tensor.zeros(parameter.shape, device: parameter.device))
                }
                var (first, second) = moments[index]!
                first *= beta1
                first.addProduct(gradient, 1 - beta1)
                second *= beta2
                second.addProduct(gradient, gradient * (1 - beta2))
                target -= first * stepSize.on(parameter.device) / (second.sqrt() / rootCorrection.on(parameter.device) + epsilon)
            }
        }
    }

    public func zeroGrad() { for parameter in parameters { parameter.zeroGrad() } }
}

/// AdamW: Adam with decoupled weight decay (default 0.01), as `torch.optim.AdamW`.
public func AdamW(_ parameters: [Tensor], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                  epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(parameters, learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: true)
}

/// A value of one optimizer step as a 0-d tensor on each device that asks for it.
private final class StepScalars {
    let value: Float
    private var tensors: [Device: Tensor] = [:]

    init(_ value: Float) { self.value = value }

    func on(_ device: Device) -> Tensor {
        if let tensor = tensors[device] { return tensor }
        let made = Tensor(value, device: device)
        tensors[device] = made
        return made
    }
}
