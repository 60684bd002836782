import Tessel

/// The largest value of each window of [N, C, H, W], as `nn.MaxPool2d` (stride defaults to the
/// kernel size): an element-wise maximum over the window views, no stacked copy. The gradient
/// goes to the window's maximum (at ties the pairwise rule splits it, unevenly across a
/// window, where PyTorch gives it all to the first).
public final class MaxPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let step = stride ?? kernelSize
        super.init { x in
            // Padding must never win a window: pad with the lowest float, not zero.
            let source = padding == 0 ? x : x.pad([(0, 0), (0, 0), (padding, padding), (padding, padding)],
                                                   mode: .constant(-Double(Float.greatestFiniteMagnitude)))
            let windows = slidingWindows(source, kernel: (kernelSize, kernelSize), stride: (step, step), padding: (0, 0),
                                         dilation: (1, 1), op: "MaxPool2d").windows
            return windows.dropFirst().reduce(windows[0]) { $0.maximum($1) }
        }
    }
}

/// The mean of each window of [N, C, H, W], as `nn.AvgPool2d` (zero padding counted, as
/// PyTorch's default `count_include_pad`).
public final class AvgPool2d: Lambda {
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        let step = stride ?? kernelSize
        super.init { x in
            let windows = slidingWindows(x, kernel: (kernelSize, kernelSize), stride: (step, step), padding: (padding, padding),
                                         dilation: (1, 1), op: "AvgPool2d").windows
            return windows.dropFirst().reduce(windows[0], +) / Float(kernelSize * kernelSize)
        }
    }
}
