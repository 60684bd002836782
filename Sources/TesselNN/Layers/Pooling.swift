import Tessel

/// The largest value of each window of [N, C, H, W], as `nn.MaxPool2d` (stride defaults to the
/// kernel size; padding never wins a window); the gradient goes to each window's first maximum
/// alone, as PyTorch's. Without a gradient to record (inference) it is one `windowMax` kernel.
/// While recording it keeps the maxima's positions, as PyTorch's `max_pool2d_with_indices`:
/// `windowArgmax`, then a gather from the flattened image, whose backward scatters the
/// gradient through those positions instead of searching the images again (which reads four
/// times the bytes).
public final class MaxPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let windows = WindowGeometry(kernel: (kernelSize, kernelSize), stride: (stride ?? kernelSize, stride ?? kernelSize),
                                     padding: (padding, padding))
        super.init { x in
            checkPooling(x, windows, op: "MaxPool2d")
            guard x.requiresGrad && Tensor.isGradEnabled else { return x.windowMax(windows) }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let positions = x.windowArgmax(windows)
            let (oh, ow) = (positions.shape[2], positions.shape[3])
            if x.strides[1] == 1 && c > 1 {
                // Channels-last memory: gather whole pixels ([N, H*W, C] rows, channels
                // adjacent), and the result keeps that memory order.
                let pixels = x.permute(0, 2, 3, 1).reshape([n, h * w, c])
                let index = positions.permute(0, 2, 3, 1).reshape([n, oh * ow, c])
                return pixels.gather(axis: 1, index: index).reshape([n, oh, ow, c]).permute(0, 3, 1, 2)
            }
            return x.reshape([n, c, h * w]).gather(axis: 2, index: positions.reshape([n, c, oh * ow])).reshape([n, c, oh, ow])
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
