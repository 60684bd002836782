/// Images of one size with integer class labels, held as bytes on the host: what an IDX pair
/// holds, before a ``DataLoader`` takes it to a device.
public struct LabeledImages: Sendable {
    /// Pixels, `count * rows * columns` bytes, image after image, row-major.
    public let pixels: [UInt8]
    /// One class index per image, 0..<classCount.
    public let labels: [Int32]
    public let rows: Int, columns: Int
    /// The class names, index by index (for MNIST "0"..."9").
    public let classNames: [String]

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Images and labels that must agree in number; `classNames` defaults to the label values
    /// 0...max as text.
    public init(pixels: [UInt8], labels: [Int32], rows: Int, columns: Int, classNames: [String]? = nil) {
        if pixels.count != labels.count * rows * columns {
            fatalError("LabeledImages: \(pixels.count) bytes for \(labels.count) images of \(rows)x\(columns)")
        }
        self.pixels = pixels
        self.labels = labels
        self.rows = rows
        self.columns = columns
        self.classNames = classNames ?? (0...Int(labels.max() ?? 0)).map(String.init)
    }

    /// Reads an IDX image file ([N, rows, columns]) and its IDX label file ([N]).
    public init(images imagePath: String, labels labelPath: String) throws(TesselDataError) {
        let images = try IDXFile(contentsOf: imagePath)
        guard images.dimensions.count == 3 else {
            throw .wrongDimensions(path: imagePath, dimensions: images.dimensions, expected: "[images, rows, columns]")
        }
        let labels = try IDXFile(contentsOf: labelPath)
        guard labels.dimensions.count == 1 else {
            throw .wrongDimensions(path: labelPath, dimensions: labels.dimensions, expected: "[labels]")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw .countMismatch(images: imagePath, imageCount: images.dimensions[0], labels: labelPath, labelCount: labels.dimensions[0])
        }
        self.init(pixels: images.bytes, labels: labels.bytes.map(Int32.init), rows: images.dimensions[1], columns: images.dimensions[2])
    }

    /// The images whose label is in `keep`, relabelled 0, 1, ... in the order of `keep` (with
    /// their names as class names): the fast.ai MNIST_SAMPLE is `subset([3, 7])` of MNIST.
    public func subset(classes keep: [Int]) -> LabeledImages {
        let size = rows * columns
        var pixels: [UInt8] = [], labels: [Int32] = []
        for (index, label) in self.labels.enumerated() {
            guard let position = keep.firstIndex(of: Int(label)) else { continue }
            labels.append(Int32(position))
            pixels += self.pixels[index * size..<(index + 1) * size]
        }
        return LabeledImages(pixels: pixels, labels: labels, rows: rows, columns: columns,
                             classNames: keep.map { classNames.indices.contains($0) ? classNames[$0] : String($0) })
    }

    /// The first `n` images (all of them when there are fewer).
    public func prefix(_ n: Int) -> LabeledImages {
        let n = Swift.min(n, count)
        return LabeledImages(pixels: Array(pixels[..<(n * rows * columns)]), labels: Array(labels[..<n]),
                             rows: rows, columns: columns, classNames: classNames)
    }

    /// Image `index`'s pixels.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        let size = rows * columns
        return pixels[index * size..<(index + 1) * size]
    }
}
