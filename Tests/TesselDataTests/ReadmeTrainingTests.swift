import Foundation
import Tessel
import XCTest
import TesselData

/// The README's Swift training example, as written there (written to a temporary file).
final class ReadmeTrainingTests: XCTestCase {
    func testTheReadmeTrainingExampleRuns() throws {
        let path = NSTemporaryDirectory() + "readme-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mnist = try MNIST()                                   // Data/mnist
        let spec = ModelSpec(architecture: .mlp, classNames: mnist.train.classNames)
        let train = DataLoader(mnist.train, batchSize: 128, shuffle: true, normalization: .mnist, seed: 0, device: .best)
        let valid = DataLoader(mnist.test, batchSize: 1000, normalization: .mnist, device: .best)
        let model = spec.makeModel(generator: Generator(seed: 0), device: .best)
        let learner = Learner(spec: spec, model: model, train: train, valid: valid,
                              optimizer: .sgd, learningRate: 0.1, schedule: .oneCycle)
        let records = learner.fit(epochs: 3)                      // [EpochRecord]: losses, accuracy, seconds
        try ModelFile(spec: spec, model: model).write(to: path)
        XCTAssertEqual(records.count, 3)
        XCTAssertGreaterThan(records.last!.validAccuracy, 0.975)
        XCTAssertEqual(try ModelFile(contentsOf: path).spec, spec)
    }
}
