import ArgumentParser
import Tessel
import TesselData

/// `tessel eval`: a saved model on the test set: accuracy, per class, the confusion matrix and
/// the top losses.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a saved model on the test set: accuracy, per-class accuracy, confusion matrix, top losses."
    )

    @Option(help: "The model file (.safetensors) that `tessel train` wrote.")
    var model: String

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "How many top losses to list.")
    var top = 10

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 or more, got \(top)") }
    }

    func run() throws {
        let device = try deviceOptions.resolve()
        let file = try ModelFile(contentsOf: model, device: device)
        let mnist = try dataOptions.load()
        let test = try select(mnist.test, classNames: file.spec.classNames, source: "the test set")
        guard [1, test.rows, test.columns] == file.spec.inputShape else {
            throw ValidationError("the model takes images of \(file.spec.inputShape), the test set holds \(test.rows)x\(test.columns)")
        }
        let loader = DataLoader(test, batchSize: 1000, normalization: file.spec.normalization, device: device)
        let evaluation = Evaluation(spec: file.spec, model: file.model, loader: loader)
        let names = file.spec.classNames
        emit("\(model): \(file.spec.architecture) model on \(device), \(test.count) test images")
        emit("accuracy \(percent(evaluation.accuracy)), loss \(String(format: "%.4f", evaluation.loss))")
        emit("\nper class")
        for (name, accuracy) in zip(names, evaluation.perClassAccuracy) { emit("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(percent(accuracy))") }
        emit("\nconfusion matrix (rows: label, columns: prediction)")
        let width = Swift.max(5, String(test.count).count + 1)
        emit("      " + names.map { $0.leftAligned(width) }.joined())
        for (name, row) in zip(names, evaluation.confusionMatrix) {
            emit(name.padding(toLength: 6, withPad: " ", startingAt: 0) + row.map { String($0).leftAligned(width) }.joined())
        }
        if top > 0 {
            emit("\ntop losses (test index, label, prediction, loss, probability of the prediction)")
            for example in evaluation.topLosses(top) {
                emit("  #\(String(example.index).padding(toLength: 6, withPad: " ", startingAt: 0)) label \(names[example.label])  predicted \(names[example.prediction])  "
                     + String(format: "loss %.3f  p %.3f", example.loss, example.confidence))
            }
        }
    }
}

extension String {
    /// Right-aligned in `width` columns.
    func leftAligned(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
