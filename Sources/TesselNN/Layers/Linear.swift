import Tessel

/// `y = x W^T + b`, as `nn.Linear`: weight [out, in], bias [out], initialised as PyTorch does
/// (Kaiming-uniform with a = sqrt(5), so both are uniform in +-1/sqrt(in)), from `generator`.
/// The bias is added in the GEMM's epilogue (`addmm`).
public final class Linear: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public var isTraining = true

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, generator: Generator = .default, device: Device = .default) {
        let bound = 1 / Float(inputs).squareRoot()
        weight = Tensor.uniform([outputs, inputs], low: -bound, high: bound, generator: generator, device: device).requiringGrad()
        self.bias = bias ? Tensor.uniform([outputs], low: -bound, high: bound, generator: generator, device: device).requiringGrad() : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let bias { return Tensor.addmm(bias, x, weight.T) }
        return x.matmul(weight.T)
    }

    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {
        weight = transform("weight", weight)
        if let bias { self.bias = transform("bias", bias) }
    }
}
