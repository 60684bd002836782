import Tessel

/// A layer without parameters: a function applied to its input (the base of the activations
/// and `Flatten`).
public class Lambda: Module {
    public var isTraining = true
    private let function: (Tensor) -> Tensor

    public init(_ function: @escaping (Tensor) -> Tensor) { self.function = function }
    public func callAsFunction(_ x: Tensor) -> Tensor { function(x) }
    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {}
}

/// `max(x, 0)`, as `nn.ReLU`.
public final class ReLU: Lambda { public init() { super.init { $0.relu() } } }
/// `1 / (1 + exp(-x))`, as `nn.Sigmoid`.
public final class Sigmoid: Lambda { public init() { super.init { $0.sigmoid() } } }
/// `tanh(x)`, as `nn.Tanh`.
public final class Tanh: Lambda { public init() { super.init { $0.tanh() } } }
/// Axes `startAxis...endAxis` merged (by default all but the batch axis), as `nn.Flatten`.
public final class Flatten: Lambda {
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        super.init { $0.flatten(startAxis: startAxis, endAxis: endAxis) }
    }
}
