import Foundation
import Tessel
import TesselNN

/// What a model file needs besides its weights to be served: the architecture, the class names
/// and how pixels become inputs. Stored in the safetensors `__metadata__`.
///
/// Every architecture takes images [batch, channels, rows, columns] and is a `TesselNN.Sequential`, so
/// its parameters have PyTorch's `nn.Sequential` names:
/// - `linear`: Flatten, Linear(pixels, 1) (`1.weight` [1, pixels]): the fast.ai lesson's 3-vs-7
///   model, trained with `mnistLoss`; its one output is the logit of the first class.
/// - `mlp`: Flatten, Linear(pixels, hidden), ReLU, Linear(hidden, classes) (`1.*`, `3.*`).
/// - `cnn`: Conv2d(channels, 32, 3), ReLU, MaxPool2d(2), Conv2d(32, 64, 3), ReLU, MaxPool2d(2),
///   Flatten, Linear(64 * h * w, classes) (`0.*`, `3.*`, `7.*`).
public struct ModelSpec: Sendable, Equatable {
    public enum Architecture: String, CaseIterable, Sendable {
        case linear, mlp, cnn
    }

    public var architecture: Architecture
    /// The MLP's hidden width (unused by the others).
    public var hidden: Int
    /// Class names by output index.
    public var classNames: [String]
    /// [channels, rows, columns] of one input image.
    public var inputShape: [Int]
    public var normalization: Normalization

    public init(architecture: Architecture, classNames: [String], inputShape: [Int] = [1, 28, 28], hidden: Int = 100,
                normalization: Normalization = .mnist) {
        if architecture == .linear && classNames.count != 2 {
            fatalError("ModelSpec: the linear model separates 2 classes, got \(classNames.count)")
        }
        if inputShape.count != 3 || inputShape.contains(where: { $0 < 1 }) { fatalError("ModelSpec: input shape \(inputShape) is not [channels, rows, columns]") }
        self.architecture = architecture
        self.hidden = hidden
        self.classNames = classNames
        self.inputShape = inputShape
        self.normalization = normalization
    }

    public var classCount: Int { classNames.count }
    var pixelCount: Int { inputShape.reduce(1, *) }

    /// A freshly initialised model (PyTorch's default initialisation) from `generator`.
    public func makeModel(generator: Generator, device: Device) -> Sequential {
        switch architecture {
        case .linear:
            return Sequential(Flatten(), Linear(pixelCount, 1, generator: generator, device: device))
        case .mlp:
            return Sequential(Flatten(), Linear(pixelCount, hidden, generator: generator, device: device), ReLU(),
                              Linear(hidden, classCount, generator: generator, device: device))
        case .cnn:
            // Two 3x3 convolutions (no padding) each followed by a 2x2 max-pool.
            let side = { (size: Int) in ((size - 2) / 2 - 2) / 2 }
            let features = 64 * side(inputShape[1]) * side(inputShape[2])
            return Sequential(Conv2d(inputShape[0], 32, kernelSize: 3, generator: generator, device: device), ReLU(), MaxPool2d(2),
                              Conv2d(32, 64, kernelSize: 3, generator: generator, device: device), ReLU(), MaxPool2d(2),
                              Flatten(), Linear(features, classCount, generator: generator, device: device))
        }
    }

    /// The training loss of the model's `output` against int32 `labels`.
    public func loss(_ output: Tensor, labels: Tensor) -> Tensor {
        switch architecture {
        case .linear: return mnistLoss(output, linearTargets(labels))
        case .mlp, .cnn: return crossEntropy(output, labels)
        }
    }

    /// The per-example loss (for top losses): cross-entropy, or the linear model's mnistLoss terms.
    public func lossPerExample(_ output: Tensor, labels: Tensor) -> Tensor {
        switch architecture {
        case .linear:
            let p = output.sigmoid()
            return Tensor.where(linearTargets(labels) .== Float(1), 1 - p, p).squeeze(axis: 1)
        case .mlp, .cnn:
            return -output.logSoftmax(axis: -1).gather(axis: 1, index: labels.unsqueeze(axis: 1)).squeeze(axis: 1)
        }
    }

    /// Class probabilities [batch, classes] from the model's output.
    public func probabilities(_ output: Tensor) -> Tensor {
        switch architecture {
        case .linear:
            let first = output.sigmoid()
            return Tensor.cat([first, 1 - first], axis: 1)
        case .mlp, .cnn: return output.softmax(axis: -1)
        }
    }

    /// Model inputs [count, channels, rows, columns] from `count` images of bytes (0...255).
    public func inputs(fromPixels pixels: [UInt8], count: Int, device: Device) throws(TesselDataError) -> Tensor {
        guard pixels.count == count * pixelCount else {
            throw .badImage(path: "input", reason: "\(pixels.count) pixels for \(count) images of \(inputShape.dropFirst().map(String.init).joined(separator: "x"))")
        }
        let raw = try! Tensor(bytes: pixels, shape: [count] + inputShape, dtype: .float32, device: device)
        return normalization.apply(toPixels: raw)
    }

    /// The linear model's float targets [batch, 1]: 1 for the first class (the lesson's 3s).
    private func linearTargets(_ labels: Tensor) -> Tensor { (labels .== Int32(0)).cast(.float32).unsqueeze(axis: 1) }

    // MARK: Metadata

    static let formatKey = "format", architectureKey = "tessel.architecture", hiddenKey = "tessel.hidden",
               classesKey = "tessel.classes", inputKey = "tessel.input_shape", meanKey = "tessel.normalize.mean",
               stdKey = "tessel.normalize.std"

    /// The spec as safetensors metadata (strings; the class names as a JSON array).
    public var metadata: [String: String] {
        let classes = String(decoding: try! JSONEncoder().encode(classNames), as: UTF8.self)
        return [ModelSpec.formatKey: "pt", ModelSpec.architectureKey: architecture.rawValue, ModelSpec.hiddenKey: String(hidden),
                ModelSpec.classesKey: classes, ModelSpec.inputKey: inputShape.map(String.init).joined(separator: ","),
                ModelSpec.meanKey: String(normalization.mean), ModelSpec.stdKey: String(normalization.std)]
    }

    /// Reads a spec back from metadata (`path` names the file in errors).
    public init(metadata: [String: String], path: String) throws(TesselDataError) {
        func field(_ key: String) throws(TesselDataError) -> String {
            guard let value = metadata[key] else { throw .invalidModelFile(path: path, reason: "the metadata has no '\(key)' (not written by Tessel?)") }
            return value
        }
        func bad(_ key: String, _ value: String) -> TesselDataError { .invalidModelFile(path: path, reason: "metadata '\(key)' = '\(value)' is not valid") }
        let name = try field(ModelSpec.architectureKey)
        guard let architecture = Architecture(rawValue: name) else {
            throw .invalidModelFile(path: path, reason: "unknown architecture '\(name)' (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let hiddenText = try field(ModelSpec.hiddenKey)
        guard let hidden = Int(hiddenText), hidden > 0 else { throw bad(ModelSpec.hiddenKey, hiddenText) }
        let classesText = try field(ModelSpec.classesKey)
        guard let classes = try? JSONDecoder().decode([String].self, from: Data(classesText.utf8)), classes.count >= 2,
              architecture != .linear || classes.count == 2 else { throw bad(ModelSpec.classesKey, classesText) }
        let inputText = try field(ModelSpec.inputKey)
        let input = inputText.split(separator: ",").compactMap { Int($0) }
        guard input.count == 3, input.allSatisfy({ $0 > 0 }), architecture != .cnn || input[1] >= 10 && input[2] >= 10 else {
            throw bad(ModelSpec.inputKey, inputText)
        }
        let meanText = try field(ModelSpec.meanKey), stdText = try field(ModelSpec.stdKey)
        guard let mean = Float(meanText), mean.isFinite else { throw bad(ModelSpec.meanKey, meanText) }
        guard let std = Float(stdText), std > 0, std.isFinite else { throw bad(ModelSpec.stdKey, stdText) }
        self.init(architecture: architecture, classNames: classes, inputShape: input, hidden: hidden,
                  normalization: Normalization(mean: mean, std: std))
    }
}
