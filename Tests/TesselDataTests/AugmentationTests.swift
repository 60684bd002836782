import Foundation
import Tessel
import XCTest
@testable import TesselData

/// Batch augmentation: draws within their ranges, the same batch on every device, and training
/// with it still learning (validation is never augmented).
final class AugmentationTests: XCTestCase {
    func testDrawsStayInTheirRanges() {
        let augmentation = Augmentation(maxRotation: 10, zoom: 1...1.1, maxTranslation: 0.1, maxLighting: 0.2, probability: 0.75, seed: 3)
        let p = augmentation.parameters(count: 400, height: 28, width: 28, device: .cpu).toArray()
        var warped = 0
        for image in 0..<400 {
            let (a, b, c) = (Double(p[image * 8]), Double(p[image * 8 + 1]), Double(p[image * 8 + 2]))
            let scale = 1 / (a * a + b * b).squareRoot(), angle = atan2(b, a) * 180 / .pi
            XCTAssertEqual(Double(p[image * 8 + 3]), -b, accuracy: 1e-6)
            XCTAssertEqual(Double(p[image * 8 + 4]), a, accuracy: 1e-6)
            XCTAssertLessThanOrEqual(abs(angle), 10 + 1e-4)
            XCTAssertTrue((1 - 1e-5)...(1.1 + 1e-5) ~= scale, "zoom \(scale)")
            // The centre of the output reads from within the shift range of the input's centre.
            let centreX = a * 13.5 + b * 13.5 + c
            XCTAssertLessThanOrEqual(abs(centreX - 13.5), 0.1 * 28 * 1.0 + 1e-3 + 0.2 * 13.5 * 2)
            XCTAssertTrue(0.8 - 1e-5...1.25 + 1e-5 ~= p[image * 8 + 6], "contrast \(p[image * 8 + 6])")
            XCTAssertLessThanOrEqual(abs(p[image * 8 + 7]), 0.2 + 1e-6)
            if abs(angle) > 1e-6 || abs(scale - 1) > 1e-6 { warped += 1 }
        }
        XCTAssertTrue(240...360 ~= warped, "about 75% of the images warped: \(warped) of 400")
    }

    func testNoDrawIsTheIdentityAndEveryDeviceAugmentsAlike() throws {
        let images = try MNIST().test.prefix(16)
        let identity = Augmentation(maxRotation: 0, zoom: 1...1, maxTranslation: 0, maxLighting: 0, probability: 0)
        var results: [[Float]] = []
        for device in Device.all {
            let batch = DataLoader(images, batchSize: 16, device: device).images
            for (got, expected) in zip(identity(batch).toArray(), batch.toArray()) { XCTAssertEqual(got, expected, accuracy: 1e-6) }
            let augmented = Augmentation(seed: 5)(batch)
            XCTAssertEqual(augmented.shape, batch.shape)
            XCTAssertGreaterThan(zip(augmented.toArray(), batch.toArray()).map { abs($0 - $1) }.max() ?? 0, 0.1, "it changes the images")
            results.append(augmented.toArray())
        }
        for other in results.dropFirst() {
            XCTAssertLessThan(zip(other, results[0]).map { abs($0 - $1) }.max() ?? 0, 1e-5, "the same augmented batch on every device")
        }
    }

    func testTrainingWithAugmentationLearnsAndValidationIsUntouched() throws {
        let mnist = try MNIST()
        let spec = ModelSpec(architecture: .mlp, classNames: mnist.train.classNames)
        let valid = DataLoader(mnist.test, batchSize: 1000, normalization: .mnist, device: .cpu)
        let learner = Learner(spec: spec, model: spec.makeModel(generator: Generator(seed: 0), device: .cpu),
                              train: DataLoader(mnist.train, batchSize: 128, shuffle: true, normalization: .mnist, seed: 0, device: .cpu),
                              valid: valid, optimizer: .sgd, learningRate: 0.1, schedule: .oneCycle, augmentation: Augmentation(seed: 1))
        let record = learner.fit(epochs: 1).last!
        XCTAssertGreaterThan(record.validAccuracy, 0.94)
        // Evaluation reads the validation loader as it is: the same numbers as an Evaluation made directly.
        XCTAssertEqual(Evaluation(spec: spec, model: learner.model, loader: valid).accuracy, record.validAccuracy)
    }
}
