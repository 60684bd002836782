import Tessel

/// Zeroes each element with probability `p` in training and scales the rest by 1 / (1 - p),
/// as `nn.Dropout`; the identity in evaluation mode. The mask comes from `generator`.
public final class Dropout: Module {
    public let p: Float
    public var isTraining = true
    private let generator: Generator

    public init(_ p: Float = 0.5, generator: Generator = .default) {
        if !(0...1).contains(p) { fatalError("Dropout: p must be in [0, 1], got \(p)") }
        self.p = p
        self.generator = generator
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && p > 0 else { return x }
        // Everything dropped (PyTorch allows p = 1): zeros, with no 1 / (1 - p) to divide by.
        if p == 1 { return x * Float(0) }
        let keep = (Tensor.rand(x.shape, generator: generator, device: x.device) .>= Float(p)).cast(.float32)
        return x * keep / (1 - p)
    }

    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {}
}
