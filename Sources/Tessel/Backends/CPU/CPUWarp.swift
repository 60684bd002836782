// Batch augmentation on the CPU backend: per-image affine resampling (see `Backend.warpAffine`).

extension CPUBackend {
    func warpAffine(_ images: StridedView, parameters: StridedView, into output: StridedView) {
        let shape = images.shape
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let source = UnsafePointer(images.cpuBase(Float.self) + images.layout.offset)
        let coefficients = UnsafePointer(parameters.cpuBase(Float.self) + parameters.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let plane = height * width
        parallelFor(shape[0] * channels, grain: Swift.max(1, 4096 / Swift.max(plane, 1))) { planes in
            for index in planes {
                let p = coefficients + (index / channels) * 8
                let input = source + index * plane, out = target.value + index * plane
                for oy in 0..<height {
                    for ox in 0..<width {
                        out[oy * width + ox] = bilinearBorder(input, width: width, height: height,
                                                              x: p[0] * Float(ox) + p[1] * Float(oy) + p[2],
                                                              y: p[3] * Float(ox) + p[4] * Float(oy) + p[5]) * p[6] + p[7]
                    }
                }
            }
        }
    }
}

/// The bilinear sample of a `height` x `width` plane at (x, y), the point first clamped into
/// the plane (a NaN coordinate reads the corner), as `Kernels/warp.cl` computes it.
@inline(__always)
private func bilinearBorder(_ plane: UnsafePointer<Float>, width: Int, height: Int, x: Float, y: Float) -> Float {
    let maxX = Float(width - 1), maxY = Float(height - 1)
    var x = x > 0 ? x : 0, y = y > 0 ? y : 0
    x = x < maxX ? x : maxX
    y = y < maxY ? y : maxY
    let x0 = x.rounded(.down), y0 = y.rounded(.down)
    let fx = x - x0, fy = y - y0
    let ix0 = Int(x0), iy0 = Int(y0)
    let ix1 = Swift.min(ix0 + 1, width - 1), iy1 = Swift.min(iy0 + 1, height - 1)
    let top = (1 - fx) * plane[iy0 * width + ix0] + fx * plane[iy0 * width + ix1]
    let bottom = (1 - fx) * plane[iy1 * width + ix0] + fx * plane[iy1 * width + ix1]
    return (1 - fy) * top + fy * bottom
}
