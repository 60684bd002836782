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
