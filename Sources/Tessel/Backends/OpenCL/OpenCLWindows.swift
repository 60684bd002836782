// im2col, col2im and the windows' maxima (max pooling and its backward) on the OpenCL backend (`Kernels/windows.cl`).

extension OpenCLBackend {
    public func unfold(_ x: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {
        let source = checked(x.buffer, x.layout, "unfold"), target = checked(output.buffer, output.layout, "unfold")
        let strides = x.layout.strides
        let windowCount = output.shape[0] * output.shape[1] * output.shape[2]
        launcher.launch(kernel("unfold_f"), count: windowCount,
                        [.int(windowCount)] + geometry(images: x.shape, rows: output.shape, windows)
                            + [.buffer(source), .int(x.layout.offset), .int(strides[0]), .int(strides[1]), .int(strides[2]), .int(strides[3]),
                               .buffer(target), .int(output.layout.offset), .int(channelsLast ? 1 : 0)])
    }

    public func fold(_ columns: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {
        let source = checked(columns.buffer, columns.layout, "fold"), target = checked(output.buffer, output.layout, "fold")
        let lineCount = output.shape[0] * output.shape[1] * output.shape[2]
        launcher.launch(kernel("fold_f"), count: lineCount,
                        [.int(lineCount)] + geometry(images: output.shape, rows: columns.shape, windows)
                            + [.buffer(source), .int(columns.layout.offset), .buffer(target), .int(output.layout.offset)]
                            + output.layout.strides.map { CLArg.int($0) } + [.int(channelsLast ? 1 : 0)])
    }

    public func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        launchWindowMaxima("window_argmax_f", x, windows, into: output)
    }

    public func windowMax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        launchWindowMaxima("window_max_f", x, windows, into: output)
    }

    public func windowMaxGradient(_ x: StridedView, _ gradient: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        launchWindowMaxima("window_max_gradient_f", x, windows, gradient: gradient, into: output)
    }

    /// Launches one of the window-maximum kernels with a work-item per element of `output`
    /// ([N, C, Y, X]) over three axes: (C, X, Y * N) when it is channels-last, (X, Y, C * N)
    /// otherwise. Its arguments: that flag, the geometry, then x, the gradient (if any) and the
    /// output, each as buffer, offset and strides.
    private func launchWindowMaxima(_ name: String, _ x: StridedView, _ windows: WindowGeometry, gradient: StridedView? = nil,
                                    into output: StridedView) {
        let shape = output.shape
        guard shape.allSatisfy({ $0 > 0 }) else { return }
        func operand(_ view: StridedView) -> [CLArg] {
            [.buffer(checked(view.buffer, view.layout, name)), .int(view.layout.offset)] + view.layout.strides.map { CLArg.int($0) }
        }
        let channelsLast = shape[1] > 1 && output.layout.strides[1] == 1
        let outputSize = windows.outputSize(height: x.shape[2], width: x.shape[3])!
        let global = channelsLast ? [shape[1], shape[3], shape[2] * shape[0]] : [shape[3], shape[2], shape[1] * shape[0]]
        // One group per (C, X) or (X, Y) plane where the kernel and every device's per-axis
        // limit (256 at least) allow it; the driver's choice otherwise.
        let program = kernel(name)
        let fits = global[0] <= 256 && global[1] <= 256 && global[0] * global[1] <= program.maxWorkGroupSize
        launcher.launch(program, global: global, local: fits ? [global[0], global[1], 1] : nil,
                        [.int(channelsLast ? 1 : 0)] + geometry(images: x.shape, rows: [x.shape[0], outputSize.height, outputSize.width], windows)
                            + operand(x) + (gradient.map(operand) ?? []) + operand(output))
    }

    /// c, h, w, oh, ow, then the kernel, stride, padding and dilation (each height, width).
    private func geometry(images: Dims, rows: Dims, _ windows: WindowGeometry) -> [CLArg] {
        [images[1], images[2], images[3], rows[1], rows[2], windows.kernel.height, windows.kernel.width,
         windows.stride.height, windows.stride.width, windows.padding.height, windows.padding.width,
         windows.dilation.height, windows.dilation.width].map { CLArg.int($0) }
    }
}
