import Tessel

/// Batch normalisation over the batch (and, for images, spatial) axes, as `nn.BatchNorm1d`
/// ([N, C] or [N, C, L]) and `nn.BatchNorm2d` ([N, C, H, W]): in training each channel is
/// normalised by its batch mean and biased variance and the running statistics move by
/// `momentum` (with the unbiased variance, as PyTorch's); in evaluation the running ones are used.
public final class BatchNorm: Module {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public var batchesTracked: Tensor
    public let epsilon: Float, momentum: Float
    public var isTraining = true

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, device: Device = .default) {
        weight = Tensor.ones([channels], device: device).requiringGrad()
        bias = Tensor.zeros([channels], device: device).requiringGrad()
        runningMean = Tensor.zeros([channels], device: device)
        runningVar = Tensor.ones([channels], device: device)
        batchesTracked = Tensor.zeros([], dtype: .int32, device: device)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if x.rank < 2 || x.shape[1] != weight.count {
            fatalError("BatchNorm: input \(x.shape) does not have \(weight.count) channels on axis 1")
        }
        let axes = [0] + Array(2..<x.rank)
        // Channel statistics broadcast as [1, C, 1, ...].
        let spread = [1, weight.count] + [Int](repeating: 1, count: x.rank - 2)
        let mean: Tensor, variance: Tensor
        if isTraining {
            mean = x.mean(axes: axes, keepDims: true)
            variance = x.variance(axes: axes, correction: 0, keepDims: true)
            let n = axes.map { x.shape[$0] }.reduce(1, *)
            Tensor.withoutGrad {
                let unbiased = variance.detach().reshape([weight.count]) * (Float(n) / Float(Swift.max(n - 1, 1)))
                runningMean *= 1 - momentum
                runningMean += mean.detach().reshape([weight.count]) * momentum
                runningVar *= 1 - momentum
                runningVar += unbiased * momentum
                batchesTracked += 1
            }
        } else {
            mean = runningMean.reshape(spread)
            variance = runningVar.reshape(spread)
        }
        return (x - mean) / (variance + epsilon).sqrt() * weight.reshape(spread) + bias.reshape(spread)
    }

    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {
        weight = transform("weight", weight)
        bias = transform("bias", bias)
        runningMean = transform("running_mean", runningMean)
        runningVar = transform("running_var", runningVar)
        batchesTracked = transform("num_batches_tracked", batchesTracked)
    }
}

/// `nn.BatchNorm1d`: batch normalisation of [N, C] or [N, C, L].
public func BatchNorm1d(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, device: Device = .default) -> BatchNorm {
    BatchNorm(channels, epsilon: epsilon, momentum: momentum, device: device)
}

/// `nn.BatchNorm2d`: batch normalisation of [N, C, H, W].
public func BatchNorm2d(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, device: Device = .default) -> BatchNorm {
    BatchNorm(channels, epsilon: epsilon, momentum: momentum, device: device)
}
