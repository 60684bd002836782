import Tessel

/// The largest value of each window of [N, C, H, W], as `nn.MaxPool2d` (stride defaults to the
/// kernel size): the windows unfolded (one kernel), and each window's first maximum gathered,
/// so the gradient goes to that element alone, as PyTorch's does.
public final class MaxPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let step = stride ?? kernelSize
        super.init { x in
            // Padding must never win a window: pad with the lowest float, not zero.
            let source = padding == 0 ? x : x.pad([(0, 0), (0, 0), (padding, padding), (padding, padding)],
                                                   mode: .constant(-Double(Float.greatestFiniteMagnitude)))
            return pooled(source, WindowGeometry(kernel: (kernelSize, kernelSize), stride: (step, step)), op: "MaxPool2d") {
                $0.gather(axis: 4, index: $0.argmax(axis: 4, keepDims: true)).squeeze(axis: 4)
            }
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
    if x.rank != 4 { fatalError("\(op): expects [N, C, H, W], got \(x.shape)") }
    if windows.outputSize(height: x.shape[2], width: x.shape[3]) == nil {
        fatalError("\(op): a \(windows.kernel) kernel does not fit input \(x.shape) with padding \(windows.padding)")
    }
    let rows = x.unfold(windows)
    let shape = rows.shape
    return reduce(rows.reshape([shape[0], shape[1], shape[2], x.shape[1], windows.kernelCount])).permute(0, 3, 1, 2)
}
