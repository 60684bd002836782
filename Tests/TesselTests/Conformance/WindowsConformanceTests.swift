import XCTest
@testable import Tessel

/// `unfold` (im2col), `fold` (col2im), `windowArgmax`, `windowMax` and `windowMaxGradient` on
/// every device against host references, with stride, padding, dilation and strided inputs.
final class WindowsConformanceTests: XCTestCase {
    private let geometries = [
        WindowGeometry(kernel: (3, 3)),
        WindowGeometry(kernel: (2, 2), stride: (2, 2)),
        WindowGeometry(kernel: (3, 2), stride: (2, 1), padding: (1, 2), dilation: (2, 1)),
    ]

    /// out[n, oh, ow, (c * KH + ky) * KW + kx] = x[n, c, oh * sh - ph + ky * dh, ow * sw - pw + kx * dw] or 0.
    private func reference(_ x: [Float], _ shape: [Int], _ g: WindowGeometry) -> (values: [Float], shape: [Int]) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let size = g.outputSize(height: h, width: w)!
        var out: [Float] = []
        for image in 0..<n {
            for oy in 0..<size.height {
                for ox in 0..<size.width {
                    for channel in 0..<c {
                        for ky in 0..<g.kernel.height {
                            for kx in 0..<g.kernel.width {
                                let iy = oy * g.stride.height - g.padding.height + ky * g.dilation.height
                                let ix = ox * g.stride.width - g.padding.width + kx * g.dilation.width
                                out.append(iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((image * c + channel) * h + iy) * w + ix] : 0)
                            }
                        }
                    }
                }
            }
        }
        return (out, [n, size.height, size.width, c * g.kernelCount])
    }

    func testUnfoldMatchesTheReferenceOnContiguousAndStridedInputs() throws {
        let shape = [2, 3, 7, 6]
        let values = randomFloats(shape.reduce(1, *), seed: 21)
        forEachDevice { device in
            let x = try! Tensor(values, shape: shape, device: device)
            // The same values seen through a transposed layout (NHWC memory).
            let strided = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            for g in geometries {
                let expected = reference(values, shape, g)
                for input in [x, strided] {
                    let got = input.unfold(g)
                    XCTAssertEqual(got.shape, expected.shape, "[\(device)] \(g)")
                    XCTAssertEqual(got.toArray(), expected.values, "[\(device)] \(g)")
                }
            }
        }
    }

    /// Tap-major rows (channelsLast) hold the same entries as channel-major ones, reordered
    /// (ky, kx, c), from NCHW and channels-last images; fold of them is their adjoint too.
    func testChannelsLastRowsAreTheChannelMajorOnesReordered() throws {
        let shape = [2, 20, 7, 6]
        let values = randomFloats(shape.reduce(1, *), seed: 23)
        forEachDevice { device in
            let x = try! Tensor(values, shape: shape, device: device)
            let channelsLast = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            for g in geometries {
                let reference = self.reference(values, shape, g)
                let (rows, taps) = (reference.shape[0] * reference.shape[1] * reference.shape[2], g.kernelCount)
                var expected = [Float](repeating: 0, count: reference.values.count)
                for row in 0..<rows {
                    for channel in 0..<20 {
                        for tap in 0..<taps { expected[row * 20 * taps + tap * 20 + channel] = reference.values[row * 20 * taps + channel * taps + tap] }
                    }
                }
                for input in [x, channelsLast] {
                    XCTAssertEqual(input.unfold(g, channelsLast: true).toArray(), expected, "[\(device)] \(g)")
                }
                let y = try! Tensor(randomFloats(expected.count, seed: 24), shape: reference.shape, device: device)
                let left = (x.unfold(g, channelsLast: true) * y).sum().item()
                let right = (x * y.fold(g, height: 7, width: 6, channelsLast: true)).sum().item()
                XCTAssertEqual(left, right, accuracy: 1e-3 * max(1, abs(left)), "[\(device)] \(g) adjoint")
            }
        }
    }

    /// fold is unfold's adjoint: <unfold(x), y> = <x, fold(y)> for every x and y, and each
    /// pixel of fold(ones) counts the windows that read it.
    func testFoldIsTheAdjointOfUnfold() throws {
        let shape = [2, 3, 7, 6]
        forEachDevice { device in
            for g in geometries {
                let x = try! Tensor(randomFloats(shape.reduce(1, *), seed: 5), shape: shape, device: device)
                let rowsShape = x.unfold(g).shape
                let y = try! Tensor(randomFloats(rowsShape.reduce(1, *), seed: 6), shape: rowsShape, device: device)
                let left = (x.unfold(g) * y).sum().item(), right = (x * y.fold(g, height: 7, width: 6)).sum().item()
                XCTAssertEqual(left, right, accuracy: 1e-3 * max(1, abs(left)), "[\(device)] \(g)")
                let counts = Tensor.ones(rowsShape, device: device).fold(g, height: 7, width: 6).toArray()
                let expected = reference([Float](repeating: 1, count: shape.reduce(1, *)), shape, g)
                // Counting by the reference: how many row entries read each pixel.
                var reads = [Float](repeating: 0, count: shape.reduce(1, *))
                let indexed = reference((0..<shape.reduce(1, *)).map { Float($0 + 1) }, shape, g).values
                for value in indexed where value > 0 { reads[Int(value) - 1] += 1 }
                XCTAssertEqual(expected.values.count, rowsShape.reduce(1, *))
                XCTAssertEqual(counts, reads, "[\(device)] \(g)")
            }
        }
    }

    /// The position y * W + x of each window's first maximum, skipping padding; NaN wins.
    private func argmaxReference(_ x: [Float], _ shape: [Int], _ g: WindowGeometry) -> [Int32] {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let size = g.outputSize(height: h, width: w)!
        var out: [Int32] = []
        for plane in 0..<n * c {
            for oy in 0..<size.height {
                for ox in 0..<size.width {
                    var best: Float = 0, position = -1
                    for ky in 0..<g.kernel.height {
                        for kx in 0..<g.kernel.width {
                            let iy = oy * g.stride.height - g.padding.height + ky * g.dilation.height
                            let ix = ox * g.stride.width - g.padding.width + kx * g.dilation.width
                            guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                            let value = x[plane * h * w + iy * w + ix]
                            if position < 0 || value > best || (value.isNaN && !best.isNaN) { best = value; position = iy * w + ix }
                        }
                    }
                    out.append(Int32(position))
                }
            }
        }
        return out
    }

    func testWindowArgmaxFindsTheFirstMaximumOnContiguousAndStridedInputs() throws {
        let shape = [2, 3, 7, 6]
        // Few distinct values, so windows hold ties; one NaN and negative values only in places.
        var values = (0..<shape.reduce(1, *)).map { Float(($0 * 7919) % 5) - 3 }
        values[17] = .nan
        let geometries = self.geometries.filter { 2 * $0.padding.height <= $0.kernel.height && 2 * $0.padding.width <= $0.kernel.width }
            + [WindowGeometry(kernel: (3, 3), stride: (2, 2), padding: (1, 1))]
        forEachDevice { device in
            let x = try! Tensor(values, shape: shape, device: device)
            let strided = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            for g in geometries {
                let expected = argmaxReference(values, shape, g)
                let size = g.outputSize(height: 7, width: 6)!
                for input in [x, strided] {
                    let got = input.windowArgmax(g)
                    XCTAssertEqual(got.shape, [2, 3, size.height, size.width], "[\(device)] \(g)")
                    XCTAssertEqual(got.scalars(as: Int32.self), expected, "[\(device)] \(g)")
                }
            }
        }
    }

    /// windowMax is the value at windowArgmax's position; windowMaxGradient adds each gradient
    /// element at that position (overlapping windows add up), in NCHW and channels-last memory,
    /// with more channels than one vector holds (whole vectors and a ragged tail).
    func testWindowMaxAndItsGradientFollowTheFirstMaximum() throws {
        let shape = [2, 20, 7, 6]
        let count = shape.reduce(1, *), planeSize = 7 * 6
        var values = (0..<count).map { Float(($0 * 7919) % 5) - 3 }
        values[17] = .nan
        values[5 * planeSize + 8] = .nan
        let geometries = self.geometries.filter { 2 * $0.padding.height <= $0.kernel.height && 2 * $0.padding.width <= $0.kernel.width }
            + [WindowGeometry(kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
               // Disjoint windows that leave pixels out (they get zero gradient).
               WindowGeometry(kernel: (2, 2), stride: (3, 3))]
        forEachDevice { device in
            let x = try! Tensor(values, shape: shape, device: device)
            let channelsLast = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            for g in geometries {
                let positions = argmaxReference(values, shape, g)
                let size = g.outputSize(height: 7, width: 6)!
                let windowsPerPlane = size.height * size.width
                let expectedMax = positions.indices.map { values[$0 / windowsPerPlane * planeSize + Int(positions[$0])] }
                let gradientValues = randomFloats(positions.count, seed: 31)
                var expectedGradient = [Float](repeating: 0, count: count)
                for (i, position) in positions.enumerated() { expectedGradient[i / windowsPerPlane * planeSize + Int(position)] += gradientValues[i] }
                let gradient = try! Tensor(gradientValues, shape: [2, 20, size.height, size.width], device: device)
                for (input, name) in [(x, "NCHW"), (channelsLast, "channels-last")] {
                    let got = input.windowMax(g)
                    XCTAssertEqual(got.shape, [2, 20, size.height, size.width], "[\(device)] \(g) \(name)")
                    XCTAssertEqual(got.toArray().map { $0.isNaN ? 99 : $0 }, expectedMax.map { $0.isNaN ? 99 : $0 }, "[\(device)] \(g) \(name)")
                    // The images' memory order: channels-last stays channels-last.
                    XCTAssertEqual(got.strides[1] == 1, name == "channels-last", "[\(device)] \(g) \(name)")
                    for incoming in [gradient, gradient.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)] {
                        let back = input.windowMaxGradient(incoming, g)
                        XCTAssertEqual(back.shape, shape)
                        let backValues = back.toArray()
                        let worst = zip(backValues, expectedGradient).map { abs($0 - $1) }.max()!
                        XCTAssertLessThan(worst, 1e-5, "[\(device)] \(g) \(name) gradient")
                    }
                }
            }
        }
    }

    /// Through autograd: windowMax's gradient is windowMaxGradient, and windowMaxGradient is
    /// linear in its gradient argument, whose own gradient picks each window's maximum.
    func testWindowMaxGradientsAgainstFiniteDifferences() throws {
        let shape = [1, 3, 5, 5]
        let g = WindowGeometry(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        forEachDevice { device in
            let x = try! Tensor(randomFloats(shape.reduce(1, *), seed: 41), shape: shape, device: device).requiringGrad()
            let weight = try! Tensor(randomFloats(27, in: 0.5...1.5, seed: 42), shape: [1, 3, 3, 3], device: device)
            (x.windowMax(g) * weight).sum().backward()
            let expected = x.detach().windowMaxGradient(weight, g).toArray()
            XCTAssertEqual(x.grad!.toArray(), expected, "[\(device)] windowMax's gradient")
            // d/dgrad <windowMaxGradient(x, grad), w> = windowMax-position picks of w.
            let incoming = try! Tensor(randomFloats(27, seed: 43), shape: [1, 3, 3, 3], device: device).requiringGrad()
            let picks = try! Tensor(randomFloats(75, seed: 44), shape: shape, device: device)
            (x.detach().windowMaxGradient(incoming, g) * picks).sum().backward()
            let positions = x.detach().windowArgmax(g).scalars(as: Int32.self)
            let pickValues = picks.toArray()
            let expectedPicks = positions.indices.map { pickValues[$0 / 9 * 25 + Int(positions[$0])] }
            XCTAssertEqual(incoming.grad!.toArray(), expectedPicks, "[\(device)] windowMaxGradient's gradient")
        }
    }
}
