// im2col, col2im and the windows' maxima (max pooling and its backward) on the OpenCL backend (`Kernels/windows.cl`).

extension OpenCLBackend {
    public func unfold(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let source = checked(x.buffer, x.layout, "unfold"), target = checked(output.buffer, output.layout, "unfold")
        let strides = x.layout.strides
        let windowCount = output.shape[0] * output.shape[1] * output.shape[2]
        launcher.launch(kernel("unfold_f"), count: windowCount,
                        [.int(windowCount)] + geometry(images: x.shape, rows: output.shape, windows)
                            + [.buffer(source), .int(x.layout.offset), .int(strides[0]), .int(strides[1]), .int(strides[2]), .int(strides[3]),
                               .buffer(target), .int(output.layout.offset)])
    }

    public func fold(_ columns: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let source = checked(columns.buffer, columns.layout, "fold"), target = checked(output.buffer, output.layout, "fold")
        let lineCount = output.shape[0] * output.shape[1] * output.shape[2]
        launcher.launch(kernel("fold_f"), count: lineCount,
                        [.int(lineCount)] + geometry(images: output.shape, rows: columns.shape, windows)
                            + [.buffer(source), .int(columns.layout.offset), .buffer(target), .int(output.layout.offset)]
                            + output.layout.strides.map { CLArg.int($0) })
    }

    public func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let source = checked(x.buffer, x.layout, "windowArgmax"), target = checked(output.buffer, output.layout, "windowArgmax")
        let strides = x.layout.strides
        let count = output.count
        launcher.launch(kernel("window_argmax_f"), count: count,
                        [.int(count)] + geometry(images: x.shape, rows: [output.shape[0], output.shape[2], output.shape[3]], windows)
                            + [.buffer(source), .int(x.layout.offset), .int(strides[0]), .int(strides[1]), .int(strides[2]), .int(strides[3]),
                               .buffer(target), .int(output.layout.offset)] + output.layout.strides.map { CLArg.int($0) })
    }

    public func windowMax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let source = checked(x.buffer, x.layout, "windowMax"), target = checked(output.buffer, output.layout, "windowMax")
        let strides = x.layout.strides
        let count = output.count
        launcher.launch(kernel("window_max_f"), count: count,
                        [.int(count)] + geometry(images: x.shape, rows: [output.shape[0], output.shape[2], output.shape[3]], windows)
                            + [.buffer(source), .int(x.layout.offset), .int(strides[0]), .int(strides[1]), .int(strides[2]), .int(strides[3]),
                               .buffer(target), .int(output.layout.offset)] + output.layout.strides.map { CLArg.int($0) })
    }

    public func windowMaxGradient(_ x: StridedView, _ gradient: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let source = checked(x.buffer, x.layout, "windowMaxGradient")
        let incoming = checked(gradient.buffer, gradient.layout, "windowMaxGradient")
        let target = checked(output.buffer, output.layout, "windowMaxGradient")
        let count = output.count
        launcher.launch(kernel("window_max_gradient_f"), count: count,
                        [.int(count)] + geometry(images: x.shape, rows: [gradient.shape[0], gradient.shape[2], gradient.shape[3]], windows)
                            + [.buffer(source), .int(x.layout.offset)] + x.layout.strides.map { CLArg.int($0) }
                            + [.buffer(incoming), .int(gradient.layout.offset)] + gradient.layout.strides.map { CLArg.int($0) }
                            + [.buffer(target), .int(output.layout.offset)] + output.layout.strides.map { CLArg.int($0) })
    }

    /// c, h, w, oh, ow, then the kernel, stride, padding and dilation (each height, width).
    private func geometry(images: [Int], rows: [Int], _ windows: WindowGeometry) -> [CLArg] {
        [images[1], images[2], images[3], rows[1], rows[2], windows.kernel.height, windows.kernel.width,
         windows.stride.height, windows.stride.width, windows.padding.height, windows.padding.width,
         windows.dilation.height, windows.dilation.width].map { CLArg.int($0) }
    }
}
