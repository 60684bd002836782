extension Tensor {
    /// The sliding windows of images [N, C, H, W], zero-padded, as rows ready for a GEMM:
    /// [N, OH, OW, C * KH * KW], each row one window with its channels outermost, (c, ky, kx)
    /// (PyTorch's `F.unfold` gives the transpose, [N, C * KH * KW, OH * OW]). With
    /// `channelsLast` the row is ordered (ky, kx, c), each window position's channels adjacent:
    /// from channels-last images that is a copy of whole pixels, and it multiplies a weight
    /// seen as [O, KH, KW, C]. One kernel; its gradient is ``fold(_:height:width:channelsLast:)``.
    public func unfold(_ windows: WindowGeometry, channelsLast: Bool = false) -> Tensor {
        checkImages(windows, op: "unfold")
        return Dispatch.run(.unfold(windows, channelsLast: channelsLast), [self])
    }

    /// The inverse arrangement of ``unfold(_:channelsLast:)``: rows [N, OH, OW, C * KH * KW] (in
    /// the same order) summed back into images [N, C, height, width] where windows overlap
    /// (col2im), in channels-last memory. Its gradient is `unfold`.
    public func fold(_ windows: WindowGeometry, height: Int, width: Int, channelsLast: Bool = false) -> Tensor {
        check(rank == 4 && dtype == .float32 && shape[3] % windows.kernelCount == 0,
              "fold: expects float32 rows [N, OH, OW, C * \(windows.kernelCount)], got \(dtype) \(shape)")
        let size = windows.outputSize(height: height, width: width)
        check(size.map { $0.height == shape[1] && $0.width == shape[2] } ?? false,
              "fold: rows \(shape) are not the windows of a \(height)x\(width) image under \(windows)")
        return Dispatch.run(.fold(windows, height: height, width: width, channelsLast: channelsLast), [self])
    }
}

extension Tensor {
    /// Where each window of images [N, C, H, W] has its first maximum, as int32 [N, C, OH, OW]
    /// positions y * W + x inside the image: the indices PyTorch's
    /// `max_pool2d(..., return_indices=True)` returns. Positions in the padding never win; a
    /// NaN wins its window.
    public func windowArgmax(_ windows: WindowGeometry) -> Tensor {
        checkMaxWindows(windows, op: "windowArgmax", offsetsSpanChannels: false)
        return Dispatch.run(.windowArgmax(windows), [self])
    }

    /// The largest value of each window of images [N, C, H, W] (max pooling, one kernel):
    /// [N, C, OH, OW] in the images' memory order. Positions in the padding never count; a NaN
    /// wins its window. The gradient goes to each window's first maximum alone, as PyTorch's.
    public func windowMax(_ windows: WindowGeometry) -> Tensor {
        checkMaxWindows(windows, op: "windowMax")
        return Dispatch.run(.windowMax(windows), [self])
    }

    /// Max pooling's backward for these images [N, C, H, W]: each element of `gradient`
    /// [N, C, OH, OW] added at its window's first maximum (as ``windowArgmax(_:)`` finds it),
    /// zero elsewhere. One kernel; the maxima are found again rather than kept.
    public func windowMaxGradient(_ gradient: Tensor, _ windows: WindowGeometry) -> Tensor {
        checkMaxWindows(windows, op: "windowMaxGradient")
        let size = windows.outputSize(height: shape[2], width: shape[3])!
        check(gradient.dtype == .float32 && gradient.shape == [shape[0], shape[1], size.height, size.width],
              "windowMaxGradient: gradient \(gradient.dtype) \(gradient.shape) for the \(size.height)x\(size.width) windows of \(shape)")
        check(gradient.device == device, "windowMaxGradient: images on \(device), gradient on \(gradient.device)")
        return Dispatch.run(.windowMaxGradient(windows), [self, gradient])
    }

    /// `checkImages`, and a geometry that leaves every window a real pixel; positions inside an
    /// image (and, for the max and its gradient, element offsets across its channels) in int32.
    private func checkMaxWindows(_ windows: WindowGeometry, op: String, offsetsSpanChannels: Bool = true) {
        checkImages(windows, op: op)
        // Padding at most half the kernel (as PyTorch), and no dilation with padding: then every
        // window holds a real pixel.
        check(2 * windows.padding.height <= windows.kernel.height && 2 * windows.padding.width <= windows.kernel.width,
              "\(op): padding \(windows.padding) is more than half the kernel \(windows.kernel)")
        check((windows.padding.height == 0 || windows.dilation.height == 1) && (windows.padding.width == 0 || windows.dilation.width == 1),
              "\(op): padding \(windows.padding) with dilation \(windows.dilation) can leave a window without a pixel")
        check((offsetsSpanChannels ? shape[1] : 1) * shape[2] * shape[3] <= Int(Int32.max),
              "\(op): images \(shape) have positions past int32")
    }
}

extension Tensor {
    /// Stops with `op`'s name unless this is float32 images [N, C, H, W] that `windows` (a
    /// valid geometry) fit.
    fileprivate func checkImages(_ windows: WindowGeometry, op: String) {
        check(rank == 4 && dtype == .float32, "\(op): expects float32 images [N, C, H, W], got \(dtype) \(shape)")
        check([windows.kernel.height, windows.kernel.width, windows.stride.height, windows.stride.width,
               windows.dilation.height, windows.dilation.width].allSatisfy { $0 >= 1 } && windows.padding.height >= 0 && windows.padding.width >= 0,
              "\(op): kernel, stride and dilation must be positive and padding not negative, got \(windows)")
        check(windows.outputSize(height: shape[2], width: shape[3]) != nil,
              "\(op): a \(windows.kernel) kernel does not fit input \(shape) with padding \(windows.padding) and dilation \(windows.dilation)")
    }
}

extension WindowGeometry: CustomStringConvertible {
    public var description: String {
        "kernel \(kernel.height)x\(kernel.width), stride \(stride.height)x\(stride.width), padding \(padding.height)x\(padding.width), dilation \(dilation.height)x\(dilation.width)"
    }
}
