// im2col and col2im on the CPU backend (convolutions and pools as one copy each way), and the
// windows' maxima: max pooling's positions, values and backward from one scan.

extension CPUBackend {
    func unfold(_ x: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (output.shape[1], output.shape[2])
        let strides = x.layout.strides
        let source = UnsafePointer(x.cpuBase(Float.self) + x.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let (kh, kw) = windows.kernel
        let taps = kh * kw, rowLength = c * taps
        // One channel: both orders are the same, and the channel-major loops are the fast ones.
        let channelsLast = channelsLast && c > 1
        // Entry (channel, tap) of a row: channel-major or, channels last, tap-major.
        let channelStep = channelsLast ? 1 : taps, tapStep = channelsLast ? c : 1
        let channelStride = strides[1], pixelsAreDense = channelStride == 1 && c > 1
        // One task per output row of windows (n, oh): ow rows of C * KH * KW values.
        parallelFor(n * oh, grain: Swift.max(1, 16384 / Swift.max(ow * rowLength, 1))) { rows in
            for row in rows {
                let image = row / oh, outY = row % oh
                var out = target.value + row * ow * rowLength
                let top = outY * windows.stride.height - windows.padding.height
                for outX in 0..<ow {
                    let left = outX * windows.stride.width - windows.padding.width
                    let inside = top >= 0 && top + (kh - 1) * windows.dilation.height < h
                        && left >= 0 && left + (kw - 1) * windows.dilation.width < w
                    if inside && !channelsLast && !pixelsAreDense {
                        // Channel-major rows from NCHW images: each channel's window, line by
                        // line, written in order.
                        let stepY = windows.dilation.height * strides[2], stepX = windows.dilation.width * strides[3]
                        var entry = out
                        for channel in 0..<c {
                            var line = source + image * strides[0] + channel * strides[1] + top * strides[2] + left * strides[3]
                            for _ in 0..<kh {
                                for kx in 0..<kw { entry[kx] = line[kx * stepX] }
                                entry += kw
                                line += stepY
                            }
                        }
                        out += rowLength
                        continue
                    }
                    for ky in 0..<kh {
                        let inY = top + ky * windows.dilation.height
                        for kx in 0..<kw {
                            let inX = left + kx * windows.dilation.width
                            let column = out + (ky * kw + kx) * tapStep
                            guard inside || (inY >= 0 && inY < h && inX >= 0 && inX < w) else {
                                for channel in 0..<c { column[channel * channelStep] = 0 }
                                continue
                            }
                            let pixel = source + image * strides[0] + inY * strides[2] + inX * strides[3]
                            if channelsLast && pixelsAreDense {
                                // A whole pixel, its channels adjacent on both sides: one copy.
                                column.update(from: pixel, count: c)
                            } else {
                                for channel in 0..<c { column[channel * channelStep] = pixel[channel * channelStride] }
                            }
                        }
                    }
                    out += rowLength
                }
            }
        }
    }

    func fold(_ columns: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {
        let (n, c, h, w) = (output.shape[0], output.shape[1], output.shape[2], output.shape[3])
        let (oh, ow) = (columns.shape[1], columns.shape[2])
        let (imageStride, channelStride, rowStride, pixelStride) = (output.layout.strides[0], output.layout.strides[1],
                                                                    output.layout.strides[2], output.layout.strides[3])
        let source = UnsafePointer(columns.cpuBase(Float.self) + columns.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let (kh, kw) = windows.kernel
        let taps = kh * kw, rowLength = c * taps
        let channelsLast = channelsLast && c > 1
        let entryStep = channelsLast ? 1 : taps, tapStep = channelsLast ? c : 1
        let pixelsAreDense = channelStride == 1 && c > 1
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
                        for ky in 0..<kh {
                            let inY = top + ky * windows.dilation.height
                            guard inY >= 0 && inY < h else { continue }
                            for kx in 0..<kw {
                                let inX = left + kx * windows.dilation.width
                                guard inX >= 0 && inX < w else { continue }
                                let pixel = out + inY * rowStride + inX * pixelStride
                                let entries = row + (ky * kw + kx) * tapStep
                                if channelsLast && pixelsAreDense {
                                    // Whole pixels on both sides: a vector add.
                                    addRun(entries, into: pixel, count: c)
                                } else {
                                    for channel in 0..<c { pixel[channel * channelStride] += entries[channel * entryStep] }
                                }
                            }
                        }
                        row += rowLength
                    }
                }
            }
        }
    }

    func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let width = x.shape[3]
        let scan = WindowMaxima(x, windows, outputHeight: output.shape[2], outputWidth: output.shape[3])
        let write = WindowRowWriter(output, Int32.self)
        parallelFor(scan.rowCount, grain: scan.rowGrain) { rows in
            scan.forEachWindow(rows: rows, tag: { inY, inX in Int32(truncatingIfNeeded: inY &* width &+ inX) }) { image, outY, outX, _, positions in
                write(image, outY, outX, positions)
            }
        }
    }

    func windowMax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let scan = WindowMaxima(x, windows, outputHeight: output.shape[2], outputWidth: output.shape[3])
        let write = WindowRowWriter(output, Float.self)
        parallelFor(scan.rowCount, grain: scan.rowGrain) { rows in
            scan.forEachWindow(rows: rows, tag: { _, _ in 0 }) { image, outY, outX, maxima, _ in
                write(image, outY, outX, maxima)
            }
        }
    }

    func windowMaxGradient(_ x: StridedView, _ gradient: StridedView, _ windows: WindowGeometry, into output: StridedView) {
        let (channels, oh) = (x.shape[1], gradient.shape[2])
        let gs = gradient.layout.strides, os = output.layout.strides
        let (g0, g1, g2, g3) = (gs[0], gs[1], gs[2], gs[3]), (o0, o1, o2, o3) = (os[0], os[1], os[2], os[3])
        let source = UnsafePointer(gradient.cpuBase(Float.self) + gradient.layout.offset)
        let target = UncheckedSendable(output.cpuBase(Float.self) + output.layout.offset)
        let imageCount = x.shape[1] * x.shape[2] * x.shape[3]
        let scan = WindowMaxima(x, windows, outputHeight: oh, outputWidth: gradient.shape[3])
        // One task per image (its block of the output is contiguous): overlapping windows add
        // into the same element, so no two tasks may share an image. Each maximum is tagged
        // with its pixel's offset in the output (the tensor layer keeps it within int32).
        parallelFor(x.shape[0], grain: 1) { images in
            for image in images {
                let block = target.value + image * o0
                block.update(repeating: 0, count: imageCount)
                scan.forEachWindow(rows: (image * oh)..<((image + 1) * oh),
                                   tag: { inY, inX in Int32(truncatingIfNeeded: inY &* o2 &+ inX &* o3) }) { image, outY, outX, _, pixels in
                    let incoming = source + (image &* g0 &+ outY &* g2 &+ outX &* g3)
                    for channel in 0..<channels { block[channel &* o1 &+ Int(pixels[channel])] += incoming[channel &* g1] }
                }
            }
        }
    }
}

/// Writes one window's row of C values (a scratch row) into an output [N, C, OH, OW]: a plain
/// copy when the output is channels-last.
private struct WindowRowWriter<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let o0: Int, o1: Int, o2: Int, o3: Int, channels: Int

    init(_ output: StridedView, _: Element.Type) {
        base = output.cpuBase(Element.self) + output.layout.offset
        let strides = output.layout.strides
        (o0, o1, o2, o3) = (strides[0], strides[1], strides[2], strides[3])
        channels = output.shape[1]
    }

    @inline(__always)
    func callAsFunction(_ image: Int, _ outY: Int, _ outX: Int, _ row: UnsafePointer<Element>) {
        let target = base + (image &* o0 &+ outY &* o2 &+ outX &* o3)
        if o1 == 1 {
            target.update(from: row, count: channels)
        } else {
            for channel in 0..<channels { target[channel &* o1] = row[channel] }
        }
    }
}

/// Finds each window's first maximum in float32 images [N, C, H, W] (any non-negative
/// strides): the scan behind `windowArgmax`, `windowMax` and `windowMaxGradient`, which differ
/// only in what they write. A NaN beats every number (the first NaN stays); positions in the
/// padding never count (every window holds a pixel: the tensor layer checks the geometry).
private struct WindowMaxima: @unchecked Sendable {
    let pixels: UnsafePointer<Float>
    let s0: Int, s1: Int, s2: Int, s3: Int
    let batch: Int, channels: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int
    let windows: WindowGeometry
    /// Each tap's offset inside its window (ky * dilation, kx * dilation), ky-major.
    let tapRows: [Int], tapColumns: [Int]

    init(_ x: StridedView, _ windows: WindowGeometry, outputHeight: Int, outputWidth: Int) {
        pixels = UnsafePointer(x.cpuBase(Float.self) + x.layout.offset)
        let strides = x.layout.strides
        (s0, s1, s2, s3) = (strides[0], strides[1], strides[2], strides[3])
        (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        (self.outputHeight, self.outputWidth) = (outputHeight, outputWidth)
        self.windows = windows
        let (kh, kw) = windows.kernel
        tapRows = (0..<(kh * kw)).map { $0 / kw * windows.dilation.height }
        tapColumns = (0..<(kh * kw)).map { $0 % kw * windows.dilation.width }
    }

    /// Rows of windows: one per (image, output row).
    var rowCount: Int { batch * outputHeight }
    var rowGrain: Int { Swift.max(1, 8192 / Swift.max(outputWidth * channels * windows.kernelCount, 1)) }

    /// For every window of the given rows, in order, calls `visit(image, outY, outX, maxima,
    /// tags)` with two scratch rows of C: each channel's first maximum and `tag(inY, inX)` of
    /// the pixel holding it (a tag is worked out once per pixel, not per channel).
    @inline(__always)
    func forEachWindow(rows: Range<Int>, tag: (Int, Int) -> Int32,
                       _ visit: (Int, Int, Int, UnsafePointer<Float>, UnsafePointer<Int32>) -> Void) {
        let taps = windows.kernelCount, channels = channels, height = height, width = width
        let (s0, s1, s2, s3) = (s0, s1, s2, s3), (outputHeight, outputWidth) = (outputHeight, outputWidth)
        let (strideY, strideX) = windows.stride, (padY, padX) = windows.padding
        let channelsLast = channels > 1 && s1 == 1
        tapRows.withUnsafeBufferPointer { tapRows in
            tapColumns.withUnsafeBufferPointer { tapColumns in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: roundedChannels) { maxima in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: roundedChannels) { tags in
                        let best = maxima.baseAddress!, bestTag = tags.baseAddress!
                        for row in rows {
                            let image = row / outputHeight, outY = row % outputHeight
                            let top = outY &* strideY &- padY
                            let plane = pixels + image &* s0
                            for outX in 0..<outputWidth {
                                let left = outX &* strideX &- padX
                                if channelsLast {
                                    // Whole pixels (channels adjacent), a vector of channels at a time.
                                    var first = true
                                    for tap in 0..<taps {
                                        let inY = top &+ tapRows[tap], inX = left &+ tapColumns[tap]
                                        guard inY >= 0 && inY < height && inX >= 0 && inX < width else { continue }
                                        comparePixel(plane + (inY &* s2 &+ inX &* s3), tag: tag(inY, inX), first: first,
                                                     best: best, bestTag: bestTag)
                                        first = false
                                    }
                                } else {
                                    for channel in 0..<channels {
                                        let channelPlane = plane + channel &* s1
                                        var current = -Float.infinity, winner = -1
                                        for tap in 0..<taps {
                                            let inY = top &+ tapRows[tap], inX = left &+ tapColumns[tap]
                                            guard inY >= 0 && inY < height && inX >= 0 && inX < width else { continue }
                                            let value = channelPlane[inY &* s2 &+ inX &* s3]
                                            if winner < 0 || value > current || (value != value && current == current) {
                                                current = value
                                                winner = tap
                                            }
                                        }
                                        best[channel] = current
                                        bestTag[channel] = tag(top &+ tapRows[winner], left &+ tapColumns[winner])
                                    }
                                }
                                visit(image, outY, outX, best, bestTag)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Channels rounded up to whole vectors (the scratch rows' length).
    private var roundedChannels: Int { (channels + simdWidth - 1) / simdWidth * simdWidth }

    /// Folds one pixel (channels adjacent, tagged `tag`) into the running maxima: a vector of channels per
    /// compare-and-select, the last partial vector one channel at a time.
    @inline(__always)
    private func comparePixel(_ pixel: UnsafePointer<Float>, tag: Int32, first: Bool,
                              best: UnsafeMutablePointer<Float>, bestTag: UnsafeMutablePointer<Int32>) {
        let vectorEnd = channels - channels % simdWidth
        var channel = 0
        if first {
            best.update(from: pixel, count: channels)
            bestTag.update(repeating: tag, count: channels)
            return
        }
        let tagVector = Vector<Int32>(repeating: tag)
        while channel < vectorEnd {
            let value = loadVector(pixel + channel), current = loadVector(UnsafePointer(best + channel))
            let wins = (value .> current) .| ((value .!= value) .& (current .== current))
            storeVector(current.replacing(with: value, where: wins), best + channel)
            storeVector(loadVector(UnsafePointer(bestTag + channel)).replacing(with: tagVector, where: wins), bestTag + channel)
            channel += simdWidth
        }
        while channel < channels {
            let value = pixel[channel], current = best[channel]
            if value > current || (value != value && current == current) {
                best[channel] = value
                bestTag[channel] = tag
            }
            channel += 1
        }
    }
}

/// target[i] += source[i] for `count` floats, a vector at a time.
@inline(__always)
private func addRun(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + simdWidth <= count {
        storeVector(loadVector(UnsafePointer(target + i)) + loadVector(source + i), target + i)
        i += simdWidth
    }
    while i < count {
        target[i] += source[i]
        i += 1
    }
}
