import ArgumentParser
import Foundation
import Tessel
import TesselData
import TesselNN

/// `tessel train`: one of the fast.ai lesson's models on MNIST, saved with its report.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on MNIST (or any folder of MNIST-layout IDX files) and save it with a report.",
        discussion: """
            linear: the lesson's 3-vs-7 model (mnistLoss, SGD, constant rate). mlp: 784-hidden-10. \
            cnn: two 3x3 convolutions with max-pooling, then a linear layer. Defaults per model: \
            linear 10 epochs, lr 1, batch 256, sgd, constant; mlp 3 epochs, lr 0.1, batch 128, sgd, \
            one-cycle; cnn 3 epochs, lr 0.1, batch 128, sgd, one-cycle.
            """
    )

    @Option(help: "linear, mlp or cnn.")
    var model: ModelSpec.Architecture = .mlp

    @Option(help: "Epochs (default: per model).")
    var epochs: Int?

    @Option(help: "Learning rate, the peak under one-cycle (default: per model).")
    var lr: Double?

    @Option(help: "Batch size (default: per model).")
    var batchSize: Int?

    @Option(help: "sgd (momentum 0.9) or adam (default: per model).")
    var optimizer: OptimizerKind?

    @Option(help: "one-cycle or constant (default: per model).")
    var schedule: ScheduleKind?

    @Option(help: "The MLP's hidden width.")
    var hidden = 100

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Seed of the initial weights and of the shuffle.")
    var seed: UInt64 = 0

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Where the model goes (.safetensors); the report goes beside it (default: out/mnist-MODEL.safetensors).")
    var out: String?

    @Option(help: "Write the per-epoch records as JSON to this file.")
    var json: String?

    @Flag(help: "Augment training batches on the device (rotation, zoom, shift, lighting; never validation).")
    var augment = false

    var settings: TrainingSettings {
        var settings = TrainingSettings.defaults(for: model)
        if let epochs { settings.epochs = epochs }
        if let lr { settings.learningRate = lr }
        if let batchSize { settings.batchSize = batchSize }
        if let optimizer { settings.optimizer = optimizer }
        if let schedule { settings.schedule = schedule }
        return settings
    }

    var outputPath: String { out ?? "out/mnist-\(model.rawValue).safetensors" }

    func validate() throws {
        let settings = self.settings
        guard settings.epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(settings.epochs)") }
        guard settings.learningRate.isFinite, settings.learningRate > 0 else {
            throw ValidationError("--lr must be a positive number, got \(settings.learningRate)")
        }
        guard settings.batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(settings.batchSize)") }
        guard hidden >= 1 else { throw ValidationError("--hidden must be at least 1, got \(hidden)") }
        guard outputPath.hasSuffix(".safetensors") else { throw ValidationError("--out must name a .safetensors file, got \(outputPath)") }
        try checkWritable(outputPath, option: "--out")
        if let json { try checkWritable(json, option: "--json") }
    }

    func run() throws {
        let settings = self.settings
        let device = try deviceOptions.resolve()
        let mnist = try dataOptions.load()
        let (trainSet, validSet): (LabeledImages, LabeledImages)
        let normalization: Normalization
        if model == .linear {
            trainSet = try select(mnist.train, classNames: ["3", "7"], source: "the training set")
            validSet = try select(mnist.test, classNames: ["3", "7"], source: "the test set")
            normalization = .unit
        } else {
            (trainSet, validSet) = (mnist.train, mnist.test)
            normalization = Normalization(fittedTo: trainSet)
        }
        let spec = ModelSpec(architecture: model, classNames: trainSet.classNames, inputShape: [1, trainSet.rows, trainSet.columns],
                             hidden: hidden, normalization: normalization)
        let train = DataLoader(trainSet, batchSize: settings.batchSize, shuffle: true, dropLast: false,
                               normalization: normalization, seed: seed, device: device)
        let valid = DataLoader(validSet, batchSize: 1000, normalization: normalization, device: device)
        let network = spec.makeModel(generator: Generator(seed: seed), device: device)
        let learner = Learner(spec: spec, model: network, train: train, valid: valid, optimizer: settings.optimizer,
                              learningRate: Float(settings.learningRate), schedule: settings.schedule,
                              augmentation: augment ? Augmentation(seed: seed) : nil)

        emit("training \(model) on \(device): \(trainSet.count) training and \(validSet.count) validation images, "
             + "\(settings.epochs) epochs, batch \(settings.batchSize), \(settings.optimizer) lr \(settings.learningRate) \(settings.schedule.rawValue)"
             + (augment ? ", augmented" : ""))
        let progress = TrainingProgress(epochs: settings.epochs)
        progress.header()
        let started = Date()
        let records = learner.fit(epochs: settings.epochs, onStep: progress.step, onEpoch: progress.epoch)
        let seconds = Date().timeIntervalSince(started)

        try ModelFile(spec: spec, model: network).write(to: outputPath)
        if let json { try writeJSON(records, to: json) }
        let evaluation = learner.evaluate(valid)
        let reportPath = try TrainingReport(spec: spec, records: records, evaluation: evaluation, valid: validSet,
                                            device: device.description).write(besideModel: outputPath)
        let final = records.last!
        emit("\(model) on \(device): \(percent(final.validAccuracy)) validation accuracy after \(settings.epochs) epochs "
             + "(\(String(format: "%.1f", seconds)) s, \(String(format: "%.2f", records.map(\.trainSeconds).reduce(0, +) / Double(records.count))) s per epoch of training)")
        emit("model:  \(outputPath)")
        emit("report: \(reportPath)")
    }
}

/// The hyperparameters of one run.
struct TrainingSettings {
    var epochs: Int
    var learningRate: Double
    var batchSize: Int
    var optimizer: OptimizerKind
    var schedule: ScheduleKind

    static func defaults(for architecture: ModelSpec.Architecture) -> TrainingSettings {
        switch architecture {
        case .linear: return TrainingSettings(epochs: 10, learningRate: 1, batchSize: 256, optimizer: .sgd, schedule: .constant)
        case .mlp: return TrainingSettings(epochs: 3, learningRate: 0.1, batchSize: 128, optimizer: .sgd, schedule: .oneCycle)
        case .cnn: return TrainingSettings(epochs: 3, learningRate: 0.1, batchSize: 128, optimizer: .sgd, schedule: .oneCycle)
        }
    }
}

func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}
