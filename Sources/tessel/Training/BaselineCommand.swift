import ArgumentParser
import Tessel
import TesselData

/// The fast.ai lesson's first model: the mean 3 and the mean 7 of the training set, and each
/// validation image classified by which mean it is closer to (mean absolute difference).
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Pixel-similarity baseline on 3s vs 7s: the distance to each class's mean image."
    )

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        let device = try deviceOptions.resolve()
        let mnist = try dataOptions.load()
        let train = try select(mnist.train, classNames: ["3", "7"], source: "the training set")
        let valid = try select(mnist.test, classNames: ["3", "7"], source: "the test set")
        let accuracy = pixelSimilarityAccuracy(train: train, valid: valid, device: device)
        emit("pixel similarity, 3s vs 7s on \(device) (train \(train.count), valid \(valid.count))")
        for (name, value) in zip(train.classNames, accuracy) {
            emit("  \(name)s    \(percent(value))")
        }
        emit("  mean  \(percent(accuracy.reduce(0, +) / Double(accuracy.count)))")
    }
}

/// Per-class accuracy of nearest-mean-image classification (mean absolute distance), on the device.
func pixelSimilarityAccuracy(train: LabeledImages, valid: LabeledImages, device: Device) -> [Double] {
    let trainLoader = DataLoader(train, batchSize: train.count, device: device)
    let validLoader = DataLoader(valid, batchSize: valid.count, device: device)
    // [classes, 1, rows, columns]: each class's mean image.
    let means = Tensor.stack((0..<train.classCount).map { label in
        let mask = (trainLoader.labels .== Int32(label)).cast(.float32).reshape([-1, 1, 1, 1])
        return (trainLoader.images * mask).sum(axis: 0) / mask.sum()
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
