import Foundation
import Tessel
import TesselNN

/// The optimizer a ``Learner`` builds.
public enum OptimizerKind: String, CaseIterable, Sendable {
    /// SGD with momentum 0.9 (cycled 0.95...0.85 under one-cycle).
    case sgd
    /// Adam (beta1 cycled 0.95...0.85 under one-cycle, as fastai does).
    case adam
}

/// How the learning rate moves over training.
public enum ScheduleKind: String, CaseIterable, Sendable {
    /// fastai's `fit_one_cycle`: warm-up to the rate, then cosine annealing; momentum inversely.
    case oneCycle = "one-cycle"
    /// The same rate for every step.
    case constant
}

/// A training loop in fastai's shape: a model, its data, an optimizer and a schedule; `fit`
/// trains for a number of epochs and validates after each.
public final class Learner {
    /// One training step's progress, handed to the `fit` callback after the step is issued.
    public struct Step {
        public let epoch: Int, batch: Int, batchCount: Int
        /// The batch's loss, detached, not yet read (reading it waits for the device).
        public let loss: Tensor
        public let samples: Int
        /// Seconds since the epoch started.
        public let elapsed: Double
    }

    /// One epoch's outcome (what fastai prints as a row and `--json` writes).
    public struct EpochRecord: Codable, Sendable, Equatable {
        public let epoch: Int
        public let trainSeconds: Double
        public let trainLoss: Double
        public let validLoss: Double
        public let validAccuracy: Double
        /// Every batch's loss, in order.
        public let batchLosses: [Float]
    }

    public let spec: ModelSpec
    public let model: Sequential
    public let train: DataLoader
    public let valid: DataLoader
    public let optimizer: any Optimizer
    public let learningRate: Float
    public let schedule: ScheduleKind
    /// Applied to training batches only, never to validation.
    public let augmentation: Augmentation?

    public init(spec: ModelSpec, model: Sequential, train: DataLoader, valid: DataLoader, optimizer: OptimizerKind,
                learningRate: Float, schedule: ScheduleKind, augmentation: Augmentation? = nil) {
        self.spec = spec
        self.model = model
        self.train = train
        self.valid = valid
        self.learningRate = learningRate
        self.schedule = schedule
        self.augmentation = augmentation
        switch optimizer {
        case .sgd: self.optimizer = SGD(model.parameters, learningRate: learningRate, momentum: 0.9)
        case .adam: self.optimizer = Adam(model.parameters, learningRate: learningRate)
        }
    }

    /// Trains for `epochs` epochs, validating after each; `onStep` sees every step and
    /// `onEpoch` every epoch's record.
    @discardableResult
    public func fit(epochs: Int, onStep: (Step) -> Void = { _ in }, onEpoch: (EpochRecord) -> Void = { _ in }) -> [EpochRecord] {
        let total = epochs * train.batchCount
        let oneCycle = OneCycleSchedule(maximum: learningRate, total: Swift.max(total, 1))
        var records: [EpochRecord] = []
        var step = 0
        for epoch in 0..<epochs {
            model.train()
            let start = Date()
            var losses: [Tensor] = []
            for (index, batch) in train.epoch().enumerated() {
                if schedule == .oneCycle { applySchedule(oneCycle.values(at: step)) }
                let images = augmentation.map { $0(batch.images) } ?? batch.images
                let loss = spec.loss(model(images), labels: batch.labels)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                let value = loss.detach()
                losses.append(value)
                step += 1
                onStep(Step(epoch: epoch, batch: index, batchCount: train.batchCount, loss: value, samples: batch.count,
                            elapsed: Date().timeIntervalSince(start)))
            }
            let batchLosses = losses.isEmpty ? [] : Tensor.stack(losses).toArray()
            let seconds = Date().timeIntervalSince(start)
            let evaluation = evaluate(valid)
            let record = EpochRecord(epoch: epoch, trainSeconds: seconds,
                                     trainLoss: batchLosses.isEmpty ? .nan : batchLosses.map(Double.init).reduce(0, +) / Double(batchLosses.count),
                                     validLoss: evaluation.loss, validAccuracy: evaluation.accuracy, batchLosses: batchLosses)
            records.append(record)
            onEpoch(record)
        }
        return records
    }

    private func applySchedule(_ values: (learningRate: Float, momentum: Float)) {
        optimizer.learningRate = values.learningRate
        switch optimizer {
        case let sgd as SGD: sgd.momentum = values.momentum
        case let adam as Adam: adam.beta1 = values.momentum
        default: break
        }
    }

    /// The model on `loader`'s examples (see ``Evaluation``).
    public func evaluate(_ loader: DataLoader) -> Evaluation { Evaluation(spec: spec, model: model, loader: loader) }
}
