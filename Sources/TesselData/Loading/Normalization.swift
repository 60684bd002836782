import Tessel

/// How pixel bytes become a model's input: scaled to 0...1, then `(x - mean) / std`.
public struct Normalization: Codable, Sendable, Equatable {
    public var mean: Float
    public var std: Float

    public init(mean: Float, std: Float) {
        if !(std > 0) || !mean.isFinite { fatalError("Normalization: std must be positive and mean finite (got mean \(mean), std \(std))") }
        self.mean = mean
        self.std = std
    }

    /// The mean and standard deviation of `images`' pixels after scaling to 0...1, as
    /// torchvision's `Normalize` constants are computed (population deviation, floored at 1e-6
    /// so a blank set still normalises; an empty set gives mean 0). The byte sums are integers,
    /// exact in any order, so the loop vectorises.
    public init(fittedTo images: LabeledImages) {
        var sum: UInt64 = 0, squares: UInt64 = 0
        images.pixels.withUnsafeBufferPointer { pixels in
            for pixel in pixels {
                let value = UInt64(pixel)
                sum &+= value
                squares &+= value &* value
            }
        }
        let count = Double(Swift.max(images.pixels.count, 1))
        let mean = Double(sum) / 255 / count
        let meanSquare = Double(squares) / (255 * 255) / count
        // A constant set's variance can round to just below zero.
        let variance = Swift.max(meanSquare - mean * mean, 0)
        self.init(mean: Float(mean), std: Float(Swift.max(variance.squareRoot(), 1e-6)))
    }

    /// Pixels scaled to 0...1 and nothing more (the fast.ai lesson's linear model).
    public static let unit = Normalization(mean: 0, std: 1)
    /// MNIST's training-set pixel mean and standard deviation (after scaling to 0...1).
    public static let mnist = Normalization(mean: 0.1307, std: 0.3081)

    /// What a byte is multiplied by: `x / 255 / std - mean / std` is `x * scale + shift`.
    public var scale: Float { 1 / (255 * std) }
    /// What is added after the multiplication (see ``scale``).
    public var shift: Float { -mean / std }

    /// `pixels` (float32 values 0...255) scaled and normalised: `pixels * scale + shift`, one
    /// fused multiply-add per element, the same bits as a ``DataLoader`` batch widened from bytes.
    public func apply(toPixels pixels: Tensor) -> Tensor {
        Tensor(shift, device: pixels.device).addingProduct(pixels, scale)
    }
}
