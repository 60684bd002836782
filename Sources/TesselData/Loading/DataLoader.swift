import Tessel

/// Batches of a ``LabeledImages`` set on a device, as PyTorch's `DataLoader`: a batch size, a
/// seeded shuffle per epoch, drop-last, pixels scaled to 0...1 and normalised.
///
/// The whole set goes to the device once and stays there as bytes, four to an int32 word (a
/// quarter of its float size: MNIST's training set is 47 MB, not 188). A batch is one
/// `indexSelect` of packed images and one of labels on the device, then one kernel that widens
/// and normalises the bytes (`byte * scale + shift`), so no pixel passes through the host
/// during training and a batch reads a quarter of the bytes a float set would make it read.
/// The iterator issues the next batch's work before it hands out the current one, so on a
/// device with a queue (OpenCL) it runs while the step is computed.
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
    /// All images, normalised, [count, 1, rows, columns]: widened from the packed bytes on each
    /// read (one kernel, and a float copy of the whole set: read it once).
    public var images: Tensor { widened(packedImages) }
    /// All labels on the device, int32 [count].
    public let labels: Tensor
    /// The images' bytes, four to an int32 word: [count, ceil(rows * columns / 4)].
    private let packedImages: Tensor
    private let rows: Int, columns: Int
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
        rows = data.rows
        columns = data.columns
        // The shapes match by construction (LabeledImages checks its sizes).
        packedImages = try! Tensor(packingBytes: data.pixels, shape: [data.count, data.rows * data.columns], device: device)
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
        guard let order else { return Batch(images: widened(packedImages[start..<end]), labels: labels[start..<end]) }
        let picked = order[start..<end]
        return Batch(images: widened(packedImages.indexSelect(axis: 0, indices: picked)),
                     labels: labels.indexSelect(axis: 0, indices: picked))
    }

    /// Packed images [n, words] as normalised float32 [n, 1, rows, columns]: one kernel.
    private func widened(_ packed: Tensor) -> Tensor {
        packed.unpackingBytes(count: rows * columns, scale: normalization.scale, shift: normalization.shift)
            .reshape([packed.shape[0], 1, rows, columns])
    }
}
