import Tessel

// Losses, as `torch.nn.functional`'s, averaged over the batch: written out of tensor ops, so
// autograd differentiates them.

/// Cross-entropy of `logits` [batch, classes] against int32 class `labels` [batch], computed
/// through log-softmax (stable for large logits); with `labelSmoothing` the target puts
/// 1 - smoothing on the label and spreads smoothing over all classes, as PyTorch does.
public func crossEntropy(_ logits: Tensor, _ labels: Tensor, labelSmoothing: Float = 0) -> Tensor {
    let logProbabilities = logits.logSoftmax(axis: -1)
    let picked = nllLoss(logProbabilities, labels)
    guard labelSmoothing > 0 else { return picked }
    let uniform = -logProbabilities.mean(axis: -1).mean()
    return picked * (1 - labelSmoothing) + uniform * labelSmoothing
}

/// Negative log-likelihood of `logProbabilities` [batch, classes] at int32 `labels` [batch].
public func nllLoss(_ logProbabilities: Tensor, _ labels: Tensor) -> Tensor {
    if logProbabilities.rank != 2 || labels.shape != [logProbabilities.shape[0]] {
        fatalError("nllLoss: log-probabilities \(logProbabilities.shape) and labels \(labels.shape) do not match")
    }
    return -logProbabilities.gather(axis: 1, index: labels.unsqueeze(axis: 1)).mean()
}

/// Mean squared error.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).square().mean() }

/// Mean absolute error.
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).abs().mean() }

/// Binary cross-entropy of probabilities in (0, 1) against 0/1 targets (the log clamped at
/// -100, as PyTorch's, so a probability of exactly 0 or 1 stays finite).
public func binaryCrossEntropy(_ probabilities: Tensor, _ target: Tensor) -> Tensor {
    // log(where(p > 0, p, 1)) then -100 where p is 0: the clamp alone would pass back 0/0 there.
    func clampedLog(_ p: Tensor) -> Tensor {
        let positive = p .> Float(0)
        let one = Tensor.ones([], device: p.device)
        return Tensor.where(positive, Tensor.where(positive, p, one).log().clamp(min: -100), Tensor.full([], -100, device: p.device))
    }
    return -(target * clampedLog(probabilities) + (1 - target) * clampedLog(1 - probabilities)).mean()
}

/// Binary cross-entropy of logits, stable for large ones: max(x, 0) - x t + log(1 + exp(-|x|)).
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor) -> Tensor {
    // maximum(x, 0), not relu: at x = 0 its tie rule passes 1/2 back, so the gradient there is
    // sigmoid(0) - t, as it should be.
    (logits.maximum(Float(0)) - logits * target + ((-logits.abs()).exp() + 1).log()).mean()
}

/// The fast.ai lesson's loss for 3s versus 7s: sigmoid of the predictions, then the distance
/// from the target, `where(target == 1, 1 - p, p).mean()`.
public func mnistLoss(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    let p = predictions.sigmoid()
    return Tensor.where(targets .== Float(1), 1 - p, p).mean()
}
