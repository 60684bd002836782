import XCTest
@testable import Tessel

/// `warpAffine` (the batch augmentation kernel) on every device against a host reference in
/// double precision: bilinear sampling with border clamping, then contrast and brightness.
final class WarpConformanceTests: XCTestCase {
    /// The reference: the same definition as `Tensor.warpAffine`'s documentation, in Double.
    private func reference(_ images: [Float], shape: [Int], parameters: [Float]) -> [Double] {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var out = [Double](repeating: 0, count: images.count)
        for image in 0..<n {
            let p = parameters[image * 8..<(image + 1) * 8].map(Double.init)
            for channel in 0..<c {
                let base = (image * c + channel) * h * w
                func at(_ y: Int, _ x: Int) -> Double { Double(images[base + y * w + x]) }
                for oy in 0..<h {
                    for ox in 0..<w {
                        let x = min(max(p[0] * Double(ox) + p[1] * Double(oy) + p[2], 0), Double(w - 1))
                        let y = min(max(p[3] * Double(ox) + p[4] * Double(oy) + p[5], 0), Double(h - 1))
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        let fx = x - Double(x0), fy = y - Double(y0)
                        let value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
                        out[base + oy * w + ox] = value * p[6] + p[7]
                    }
                }
            }
        }
        return out
    }

    func testMatchesTheReferenceForRandomMapsOnEveryDevice() throws {
        let shape = [5, 2, 9, 7]
        let images = randomFloats(shape.reduce(1, *), seed: 11)
        // Rotations, zooms, shifts that reach outside the image (border clamping), lighting.
        var parameters: [Float] = []
        for (index, angle) in [0.0, 0.3, -0.5, 1.2, 3.0].enumerated() {
            let scale = 0.8 + 0.15 * Double(index), shift = Double(index) - 2
            parameters += [cos(angle) / scale, sin(angle) / scale, shift, -sin(angle) / scale, cos(angle) / scale, -shift * 1.5,
                           0.9 + 0.05 * Double(index), 0.1 * Double(index) - 0.2].map { Float($0) }
        }
        let expected = reference(images, shape: shape, parameters: parameters)
        forEachDevice { device in
            let x = try! Tensor(images, shape: shape, device: device)
            let got = x.warpAffine(try! Tensor(parameters, shape: [5, 8], device: device)).toArray()
            XCTAssertEqual(got.count, expected.count)
            let worst = zip(got, expected).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, "[\(device)] largest difference from the reference")
        }
    }

    func testIdentityShiftAndNonContiguousInputs() throws {
        forEachDevice { device in
            let x = Tensor.arange(Float(0), 24, device: device).reshape([2, 1, 3, 4])
            let identity = Tensor([[1, 0, 0, 0, 1, 0, 1, 0], [1, 0, 0, 0, 1, 0, 1, 0]] as [[Float]], device: device)
            XCTAssertEqual(x.warpAffine(identity).toArray(), x.toArray(), "[\(device)]")
            // Reading one pixel to the right shifts the image left; the last column repeats (border).
            let shift = Tensor([[1, 0, 1, 0, 1, 0, 2, 0.5], [1, 0, 0, 0, 1, 1, 1, 0]] as [[Float]], device: device)
            XCTAssertEqual(x.warpAffine(shift).toArray(),
                           [1, 2, 3, 3, 5, 6, 7, 7, 9, 10, 11, 11].map { $0 * 2 + 0.5 } + [16, 17, 18, 19, 20, 21, 22, 23, 20, 21, 22, 23],
                           "[\(device)]")
            // A transposed (non-contiguous) batch and a sliced parameter block give the same result.
            let transposed = x.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)
            XCTAssertFalse(transposed.isContiguous)
            let padded = Tensor.cat([Tensor.zeros([2, 8], device: device), shift], axis: 1)[0..., 8...]
            XCTAssertEqual(transposed.warpAffine(padded).toArray(), x.warpAffine(shift).toArray(), "[\(device)]")
            XCTAssertFalse(Tensor.rand([2, 1, 3, 4], device: device).requiringGrad().warpAffine(identity).requiresGrad,
                           "not differentiable: no tape entry")
        }
    }
}
