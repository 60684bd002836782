// im2col and col2im on the CPU backend: convolutions and pools as one copy each way.

extension CPUBackend {
    func unfold(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (output.shape[1], output.shape[2])
        let strides = x.layout.strides
        let source = UnsafePointer(x.cpuBase(Float.self) + x.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let (kh, kw) = windows.kernel
        let rowLength = c * kh * kw
        // One task per output row of windows (n, oh): ow rows of C * KH * KW values.
        parallelFor(n * oh, grain: Swift.max(1, 16384 / Swift.max(ow * rowLength, 1))) { rows in
            for row in rows {
                let image = row / oh, outY = row % oh
                var out = target.value + row * ow * rowLength
                let top = outY * windows.stride.height - windows.padding.height
                for outX in 0..<ow {
                    let left = outX * windows.stride.width - windows.padding.width
                    if top >= 0 && top + (kh - 1) * windows.dilation.height < h && left >= 0 && left + (kw - 1) * windows.dilation.width < w {
                        // The whole window inside the image (always, without padding): no bounds checks.
                        let stepY = windows.dilation.height * strides[2], stepX = windows.dilation.width * strides[3]
                        if strides[1] == 1 && c > 1 {
                            // Channels-last images: each window position reads one whole pixel
                            // (its channels adjacent) into the row, kh * kw apart.
                            let taps = kh * kw
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let pixel = source + image * strides[0] + top * strides[2] + left * strides[3] + ky * stepY + kx * stepX
                                    let column = out + ky * kw + kx
                                    for channel in 0..<c { column[channel * taps] = pixel[channel] }
                                }
                            }
                            out += c * taps
                            continue
                        }
                        for channel in 0..<c {
                            var line = source + image * strides[0] + channel * strides[1] + top * strides[2] + left * strides[3]
                            for _ in 0..<kh {
                                for kx in 0..<kw { out[kx] = line[kx * stepX] }
                                out += kw
                                line += stepY
                            }
                        }
                        continue
                    }
                    for channel in 0..<c {
                        let plane = source + image * strides[0] + channel * strides[1]
                        for ky in 0..<kh {
                            let inY = outY * windows.stride.height - windows.padding.height + ky * windows.dilation.height
                            guard inY >= 0 && inY < h else {
                                out.update(repeating: 0, count: kw)
                                out += kw
                                continue
                            }
                            let line = plane + inY * strides[2]
                            for kx in 0..<kw {
                                let inX = outX * windows.stride.width - windows.padding.width + kx * windows.dilation.width
                                out.pointee = inX >= 0 && inX < w ? line[inX * strides[3]] : 0
                                out += 1
                            }
                        }
                    }
                }
            }
        }
    }

    func fold(_ columns: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let (n, c, h, w) = (output.shape[0], output.shape[1], output.shape[2], output.shape[3])
        let (oh, ow) = (columns.shape[1], columns.shape[2])
        let (imageStride, channelStride, rowStride, pixelStride) = (output.layout.strides[0], output.layout.strides[1],
                                                                    output.layout.strides[2], output.layout.strides[3])
        let source = UnsafePointer(columns.cpuBase(Float.self) + columns.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let (kh, kw) = windows.kernel
        let rowLength = c * kh * kw
        // One task per image: its rows are read in order and added into its own block.
        parallelFor(n, grain: 1) { images in
            for image in images {
                let out = target.value + image * imageStride
                out.update(repeating: 0, count: c * h * w)
                var row = source + image * oh * ow * rowLength
                for outY in 0..<oh {
                    let top = outY * windows.stride.height - windows.padding.height
                    for outX in 0..<ow {
                        let left = outX * windows.stride.width - windows.padding.width
                        if top >= 0 && top + (kh - 1) * windows.dilation.height < h && left >= 0 && left + (kw - 1) * windows.dilation.width < w {
                            let stepY = windows.dilation.height * rowStride, stepX = windows.dilation.width * pixelStride
                            if channelStride == 1 && c > 1 {
                                // Channels-last images: each window position adds into one whole
                                // pixel, its channels adjacent (the row holds them kh * kw apart).
                                let taps = kh * kw
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let pixel = out + top * rowStride + left * pixelStride + ky * stepY + kx * stepX
                                        let column = row + ky * kw + kx
                                        for channel in 0..<c { pixel[channel] += column[channel * taps] }
                                    }
                                }
                                row += c * taps
                                continue
                            }
                            for channel in 0..<c {
                                var line = out + channel * channelStride + top * rowStride + left * pixelStride
                                for _ in 0..<kh {
                                    for kx in 0..<kw { line[kx * stepX] += row[kx] }
                                    row += kw
                                    line += stepY
                                }
                            }
                            continue
                        }
                        for channel in 0..<c {
                            let plane = out + channel * channelStride
                            for ky in 0..<kh {
                                let inY = outY * windows.stride.height - windows.padding.height + ky * windows.dilation.height
                                guard inY >= 0 && inY < h else {
                                    row += kw
                                    continue
                                }
                                for kx in 0..<kw {
                                    let inX = outX * windows.stride.width - windows.padding.width + kx * windows.dilation.width
                                    if inX >= 0 && inX < w { plane[inY * rowStride + inX * pixelStride] += row.pointee }
                                    row += 1
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (output.shape[2], output.shape[3])
        let xs = x.layout.strides, os = output.layout.strides
        let source = UncheckedSendable(UnsafeMutablePointer(mutating: x.cpuBase(Float.self) + x.layout.offset))
        let target = UncheckedSendable(output.cpuBase(Int32.self) + output.layout.offset)
        let (kh, kw) = windows.kernel
        let channelsLast = c > 1 && xs[1] == 1 && os[1] == 1
        /// Calls `body(inY, inX)` for each position of window (outY, outX) inside the image.
        @inline(__always) func forEachPixel(_ outY: Int, _ outX: Int, _ body: (Int, Int) -> Void) {
            for ky in 0..<kh {
                let inY = outY * windows.stride.height - windows.padding.height + ky * windows.dilation.height
                guard inY >= 0 && inY < h else { continue }
                for kx in 0..<kw {
                    let inX = outX * windows.stride.width - windows.padding.width + kx * windows.dilation.width
                    if inX >= 0 && inX < w { body(inY, inX) }
                }
            }
        }
        // One task per output row (n, oy). The first maximum wins; a NaN beats every number
        // (and the first NaN stays).
        parallelFor(n * oh, grain: Swift.max(1, 8192 / Swift.max(ow * c * kh * kw, 1))) { rows in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: channelsLast ? c : 1) { best in
                for row in rows {
                    let image = row / oh, outY = row % oh
                    let pixels = source.value + image * xs[0]
                    for outX in 0..<ow {
                        if channelsLast {
                            // Every channel of a pixel is adjacent: compare whole pixels.
                            let positions = target.value + image * os[0] + outY * os[2] + outX * os[3]
                            var first = true
                            for channel in 0..<c { positions[channel] = -1 }
                            forEachPixel(outY, outX) { inY, inX in
                                let pixel = pixels + inY * xs[2] + inX * xs[3], position = Int32(inY * w + inX)
                                for channel in 0..<c {
                                    let value = pixel[channel], current = best[channel]
                                    if first || value > current || (value != value && current == current) {
                                        best[channel] = value
                                        positions[channel] = position
                                    }
                                }
                                first = false
                            }
                            continue
                        }
                        for channel in 0..<c {
                            let plane = pixels + channel * xs[1]
                            var current = -Float.infinity, position = -1
                            forEachPixel(outY, outX) { inY, inX in
                                let value = plane[inY * xs[2] + inX * xs[3]]
                                if position < 0 || value > current || (value != value && current == current) {
                                    current = value
                                    position = inY * w + inX
                                }
                            }
                            target.value[image * os[0] + channel * os[1] + outY * os[2] + outX * os[3]] = Int32(position)
                        }
                    }
                }
            }
        }
    }
}
