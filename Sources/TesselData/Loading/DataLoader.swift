import Tessel

/// Batches of a ``LabeledImages`` set on a device, as PyTorch's `DataLoader`: a batch size, a
/// seeded shuffle per epoch, drop-last, pixels scaled to 0...1 and normalised.
///
/// The whole set goes to the device once (as bytes, widened there); a batch is then one
/// `indexSelect` of images and one of labels on the device, so no pixel passes through the host
/// during training. The iterator issues the next batch's gathers before it hands out the
/// current one, so on a device with a queue (OpenCL) they run while the step is computed.
public final class DataLoader {
    /// One batch: images [batch, 1, rows, columns] (float32, normalised) and labels [batch] (int32).
    public struct Batch {
        public let images: Tensor
        public let labels: Tensor
        public var count: Int { labels.shape[0] }
    }

    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let device: Device
    public let normalization: Normalization
    /// The number of examples.
    public let count: Int
    /// All images on the device, normalised, [count, 1, rows, columns].
    public let images: Tensor
    /// All labels on the device, int32 [count].
    public let labels: Tensor
    private let generator: Generator

    /// A loader over `data`; `seed` fixes the order of every epoch (the same on every device).
    public init(_ data: LabeledImages, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                normalization: Normalization = .unit, seed: UInt64 = 0, device: Device = .default) {
        if batchSize < 1 { fatalError("DataLoader: batch size must be at least 1, got \(batchSize)") }
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.device = device
        self.normalization = normalization
        count = data.count
        generator = Generator(seed: seed)
        let shape = [data.count, 1, data.rows, data.columns]
        // The shapes match by construction (LabeledImages checks its sizes).
        var pixels = try! Tensor(bytes: data.pixels, shape: shape, dtype: .float32, device: device)
        normalization.apply(toPixelsInPlace: &pixels)
        images = pixels
        labels = Tensor(data.labels, device: device)
    }

    /// Batches per epoch.
    public var batchCount: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The batches of the next epoch (a new shuffle each call when `shuffle` is set).
    public func epoch() -> Batches {
        let order = shuffle ? Tensor.randperm(count, generator: generator, device: device) : nil
        return Batches(loader: self, order: order, batchCount: batchCount)
    }

    /// Every example once, in dataset order, the last batch possibly short whatever `dropLast`
    /// says (for evaluation).
    public func inOrder() -> Batches {
        Batches(loader: self, order: nil, batchCount: (count + batchSize - 1) / batchSize)
    }

    /// One epoch's batches, each prepared one step ahead.
    public struct Batches: Sequence, IteratorProtocol {
        let loader: DataLoader
        let order: Tensor?
        let batchCount: Int
        var index = 0
        var prepared: Batch?

        init(loader: DataLoader, order: Tensor?, batchCount: Int) {
            self.loader = loader
            self.order = order
            self.batchCount = batchCount
            prepared = batchCount > 0 ? loader.batch(0, order: order) : nil
        }

        public mutating func next() -> Batch? {
            guard let current = prepared else { return nil }
            index += 1
            prepared = index < batchCount ? loader.batch(index, order: order) : nil
            return current
        }
    }

    private func batch(_ index: Int, order: Tensor?) -> Batch {
        let start = index * batchSize, end = Swift.min(start + batchSize, count)
        guard let order else { return Batch(images: images[start..<end], labels: labels[start..<end]) }
        let picked = order[start..<end]
        return Batch(images: images.indexSelect(axis: 0, indices: picked), labels: labels.indexSelect(axis: 0, indices: picked))
    }
}
