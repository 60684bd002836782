import Tessel

/// Layers applied in order, as `nn.Sequential`; their parameters are named by position
/// (`0.weight`, `2.bias`), as in PyTorch's `state_dict`.
public final class Sequential: Module {
    public private(set) var layers: [any Module]

    public init(_ layers: [any Module]) { self.layers = layers }
    public convenience init(_ layers: any Module...) { self.init(layers) }

    public var isTraining: Bool {
        get { layers.first?.isTraining ?? true }
        set { for layer in layers { layer.isTraining = newValue } }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }

    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {
        for (index, layer) in layers.enumerated() {
            layer.updateParameters { name, parameter in transform("\(index).\(name)", parameter) }
        }
    }
}
