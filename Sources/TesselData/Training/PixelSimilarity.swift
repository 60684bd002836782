import Tessel

/// The fast.ai lesson's pixel-similarity model: each class's mean training image, and each
/// validation image assigned to the class whose mean is closest (mean absolute difference).
/// Returns the accuracy per class of `valid`, computed on `device`.
public func pixelSimilarityAccuracy(train: LabeledImages, valid: LabeledImages, device: Device) -> [Double] {
    let trainLoader = DataLoader(train, batchSize: train.count, device: device)
    let validLoader = DataLoader(valid, batchSize: valid.count, device: device)
    // [classes, 1, rows, columns]: each class's mean image (the set widened once).
    let trainImages = trainLoader.images
    let means = Tensor.stack((0..<train.classCount).map { label in
        let mask = (trainLoader.labels .== Int32(label)).cast(.float32).reshape([-1, 1, 1, 1])
        return (trainImages * mask).sum(axis: 0) / mask.sum()
    })
    // [valid, classes]: the distance of each image to each mean.
    let distances = (validLoader.images.unsqueeze(axis: 1) - means.unsqueeze(axis: 0)).abs().mean(axes: [2, 3, 4])
    let predicted = distances.argmin(axis: 1).scalars(as: Int32.self)
    let labels = validLoader.labels.scalars(as: Int32.self)
    return (0..<train.classCount).map { label in
        let ofClass = labels.indices.filter { labels[$0] == Int32(label) }
        return Double(ofClass.filter { predicted[$0] == Int32(label) }.count) / Double(ofClass.count)
    }
}
