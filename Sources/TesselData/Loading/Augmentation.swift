import Foundation
import Tessel

/// Random batch augmentation on the device, as fastai's `aug_transforms` does on the GPU: an
/// affine warp (rotation, zoom, translation) and lighting (contrast, brightness), each image
/// its own draw, the whole batch in one `warpAffine` kernel.
///
/// Applied to training batches only (``Learner`` never augments validation). No flips: a
/// mirrored digit is another symbol.
public struct Augmentation: Sendable {
    /// Largest rotation either way, in degrees.
    public var maxRotation: Float
    /// Zoom factors drawn uniformly from this range (1 keeps the size, 1.1 enlarges by 10%).
    public var zoom: ClosedRange<Float>
    /// Largest shift either way along each axis, as a fraction of the image's size.
    public var maxTranslation: Float
    /// Largest lighting change: contrast drawn log-uniformly in [1 - m, 1 / (1 - m)], brightness
    /// shifted by up to m either way (in the input's normalised units).
    public var maxLighting: Float
    /// The share of images that are warped (the rest keep their geometry), as fastai's `p_affine`.
    public var probability: Float
    private let generator: Generator

    /// fastai's defaults for `aug_transforms` without flips, with a smaller zoom and shift
    /// suited to 28x28 digits.
    public init(maxRotation: Float = 10, zoom: ClosedRange<Float> = 1...1.1, maxTranslation: Float = 0.08,
                maxLighting: Float = 0.2, probability: Float = 0.75, seed: UInt64 = 0) {
        if !(maxRotation >= 0) || !(zoom.lowerBound > 0) || !(maxTranslation >= 0) || !(maxLighting >= 0 && maxLighting < 1)
            || !(probability >= 0 && probability <= 1) {
            fatalError("Augmentation: rotation \(maxRotation), zoom \(zoom), translation \(maxTranslation), lighting \(maxLighting), probability \(probability) out of range")
        }
        self.maxRotation = maxRotation
        self.zoom = zoom
        self.maxTranslation = maxTranslation
        self.maxLighting = maxLighting
        self.probability = probability
        generator = Generator(seed: seed)
    }

    /// `images` [N, C, H, W] augmented, each image with its own draw.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        images.warpAffine(Tensor.withoutGrad { parameters(count: images.shape[0], height: images.shape[2], width: images.shape[3],
                                                          device: images.device) })
    }

    /// The [count, 8] warp parameters of the next `count` images (drawn on the host from the
    /// seeded generator: the same on every device).
    public func parameters(count: Int, height: Int, width: Int, device: Device) -> Tensor {
        let draws = Tensor.rand([count, 7], generator: generator, device: .cpu).toArray()
        let centerX = Float(width - 1) / 2, centerY = Float(height - 1) / 2
        var values: [Float] = []
        values.reserveCapacity(count * 8)
        for image in 0..<count {
            let u = Array(draws[image * 7..<(image + 1) * 7])
            let warped = u[0] < probability
            let angle = warped ? (2 * u[1] - 1) * maxRotation * .pi / 180 : 0
            let scale = warped ? zoom.lowerBound + u[2] * (zoom.upperBound - zoom.lowerBound) : 1
            let shiftX = warped ? (2 * u[3] - 1) * maxTranslation * Float(width) : 0
            let shiftY = warped ? (2 * u[4] - 1) * maxTranslation * Float(height) : 0
            // Output -> input: undo the shift, then the rotation and zoom about the centre.
            let a = Foundation.cos(angle) / scale, b = Foundation.sin(angle) / scale
            let (outX, outY) = (centerX + shiftX, centerY + shiftY)
            let contrast = Foundation.exp((2 * u[5] - 1) * -Foundation.log(1 - maxLighting))
            let brightness = (2 * u[6] - 1) * maxLighting
            values += [a, b, centerX - a * outX - b * outY, -b, a, centerY + b * outX - a * outY, contrast, brightness]
        }
        return try! Tensor(values, shape: [count, 8], device: device)
    }
}
