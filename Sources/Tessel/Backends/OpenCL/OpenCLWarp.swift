// Batch augmentation on the OpenCL backend (`Kernels/warp.cl`): one work-item per output pixel.

extension OpenCLBackend {
    public func warpAffine(_ images: StridedView, parameters: StridedView, into output: StridedView) {
        let shape = images.shape
        let source = checked(images.buffer, images.layout, "warpAffine")
        let coefficients = checked(parameters.buffer, parameters.layout, "warpAffine")
        let target = checked(output.buffer, output.layout, "warpAffine")
        launcher.launch(kernel("warp_affine_f"), count: output.count,
                        [.int(output.count), .int(shape[1]), .int(shape[2]), .int(shape[3]),
                         .buffer(source), .int(images.layout.offset), .buffer(coefficients), .int(parameters.layout.offset),
                         .buffer(target), .int(output.layout.offset)])
    }
}
