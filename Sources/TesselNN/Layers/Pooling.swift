import Tessel

/// The largest value of each window of [N, C, H, W], as `nn.MaxPool2d` (stride defaults to the
/// kernel size; padding never wins a window): one `windowMax` kernel, whose gradient goes to
/// each window's first maximum alone (one `windowMaxGradient` kernel), as PyTorch's does.
public final class MaxPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let windows = WindowGeometry(kernel: (kernelSize, kernelSize), stride: (stride ?? kernelSize, stride ?? kernelSize),
                                     padding: (padding, padding))
        super.init { x in
            checkPooling(x, windows, op: "MaxPool2d")
            return x.windowMax(windows)
        }
    }
}

/// The mean of each window of [N, C, H, W], as `nn.AvgPool2d` (zero padding counted, as
/// PyTorch's default `count_include_pad`).
public final class AvgPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let step = stride ?? kernelSize
        super.init { x in
            pooled(x, WindowGeometry(kernel: (kernelSize, kernelSize), stride: (step, step), padding: (padding, padding)),
                   op: "AvgPool2d") { $0.mean(axis: 4) }
        }
    }
}

/// `reduce` over each window of `x` [N, C, H, W]: the windows unfolded to [N, OH, OW, C, K],
/// reduced along K, and seen as [N, C, OH, OW].
private func pooled(_ x: Tensor, _ windows: WindowGeometry, op: String, _ reduce: (Tensor) -> Tensor) -> Tensor {
    checkPooling(x, windows, op: op)
    let rows = x.unfold(windows)
    let shape = rows.shape
    return reduce(rows.reshape([shape[0], shape[1], shape[2], x.shape[1], windows.kernelCount])).permute(0, 3, 1, 2)
}

/// Stops with `op`'s name unless `x` is [N, C, H, W] and the windows fit it.
private func checkPooling(_ x: Tensor, _ windows: WindowGeometry, op: String) {
    if x.rank != 4 { fatalError("\(op): expects [N, C, H, W], got \(x.shape)") }
    if windows.outputSize(height: x.shape[2], width: x.shape[3]) == nil {
        fatalError("\(op): a \(windows.kernel) kernel does not fit input \(x.shape) with padding \(windows.padding)")
    }
}
