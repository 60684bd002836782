import Tessel
import TesselNN

/// A model's predictions on a dataset: loss, accuracy, the confusion matrix and per-example
/// losses (for the top losses), computed in evaluation mode without recording.
public struct Evaluation: Sendable {
    /// Mean loss over the examples (the training loss function).
    public let loss: Double
    /// The share of examples predicted right.
    public let accuracy: Double
    /// The predicted class of each example, in loader order.
    public let predictions: [Int32]
    /// Each example's true class.
    public let labels: [Int32]
    /// Each example's loss.
    public let losses: [Float]
    /// Each example's probability for its predicted class.
    public let confidence: [Float]
    public let classNames: [String]

    /// Runs `model` over `loader` (unshuffled order); the mode is restored afterwards.
    public init(spec: ModelSpec, model: Sequential, loader: DataLoader) {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.isTraining = wasTraining }
        var predicted: [Tensor] = [], losses: [Tensor] = [], confidence: [Tensor] = []
        Tensor.withoutGrad {
            for batch in loader.inOrder() {
                let output = model(batch.images)
                let probabilities = spec.probabilities(output)
                predicted.append(probabilities.argmax(axis: 1))
                confidence.append(probabilities.max(axis: 1))
                losses.append(spec.lossPerExample(output, labels: batch.labels))
            }
        }
        self.predictions = predicted.isEmpty ? [] : Tensor.cat(predicted).scalars(as: Int32.self)
        self.losses = losses.isEmpty ? [] : Tensor.cat(losses).toArray()
        self.confidence = confidence.isEmpty ? [] : Tensor.cat(confidence).toArray()
        labels = loader.labels.scalars(as: Int32.self)
        classNames = spec.classNames
        let right = zip(predictions, labels).filter { $0 == $1 }.count
        accuracy = labels.isEmpty ? .nan : Double(right) / Double(labels.count)
        loss = self.losses.isEmpty ? .nan : self.losses.map(Double.init).reduce(0, +) / Double(self.losses.count)
    }

    /// counts[label][prediction].
    public var confusionMatrix: [[Int]] {
        var counts = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
        for (label, prediction) in zip(labels, predictions) { counts[Int(label)][Int(prediction)] += 1 }
        return counts
    }

    /// Accuracy per class (NaN for a class with no examples).
    public var perClassAccuracy: [Double] {
        confusionMatrix.enumerated().map { label, row in
            let total = row.reduce(0, +)
            return total == 0 ? .nan : Double(row[label]) / Double(total)
        }
    }

    /// The `count` examples with the highest loss, worst first: index, label, prediction, loss, confidence.
    public func topLosses(_ count: Int) -> [(index: Int, label: Int, prediction: Int, loss: Float, confidence: Float)] {
        losses.indices.sorted { losses[$0] > losses[$1] }.prefix(count).map {
            ($0, Int(labels[$0]), Int(predictions[$0]), losses[$0], confidence[$0])
        }
    }
}
