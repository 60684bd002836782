import Tessel

/// The sliding windows of an image batch: `x` [N, C, H, W] zero-padded, then for each kernel
/// position (kh, kw), in row-major order, the strided view [N, C, OH, OW] of the inputs it
/// meets. Built from slices and a pad, each with a gradient rule on the device, so
/// convolutions and pools differentiate without a rule of their own; callers stack the views
/// in the memory order they need (one copy).
func slidingWindows(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
                    op: String) -> (windows: [Tensor], outputHeight: Int, outputWidth: Int) {
    if x.rank != 4 { fatalError("\(op): expects [N, C, H, W], got \(x.shape)") }
    let padded = padding == (0, 0) ? x : x.pad([(0, 0), (0, 0), (padding.0, padding.0), (padding.1, padding.1)])
    let height = padded.shape[2], width = padded.shape[3]
    let spanHeight = height - dilation.0 * (kernel.0 - 1) - 1, spanWidth = width - dilation.1 * (kernel.1 - 1) - 1
    // A negative span is a kernel larger than the input (Swift's / would round it up to 0).
    let outputHeight = spanHeight < 0 ? 0 : spanHeight / stride.0 + 1, outputWidth = spanWidth < 0 ? 0 : spanWidth / stride.1 + 1
    if outputHeight <= 0 || outputWidth <= 0 {
        fatalError("\(op): a \(kernel) kernel does not fit input \(x.shape) with padding \(padding) and dilation \(dilation)")
    }
    var slices: [Tensor] = []
    for kh in 0..<kernel.0 {
        for kw in 0..<kernel.1 {
            let top = kh * dilation.0, left = kw * dilation.1
            slices.append(padded.slice([.all, .all,
                                        .range(start: top, end: top + (outputHeight - 1) * stride.0 + 1, step: stride.0),
                                        .range(start: left, end: left + (outputWidth - 1) * stride.1 + 1, step: stride.1)]))
        }
    }
    return (slices, outputHeight, outputWidth)
}
