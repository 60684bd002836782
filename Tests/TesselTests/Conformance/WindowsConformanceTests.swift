import XCTest
@testable import Tessel

/// `unfold` (im2col), `fold` (col2im) and `windowArgmax` on every device against host
/// references, with stride, padding, dilation and strided inputs.
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
}
