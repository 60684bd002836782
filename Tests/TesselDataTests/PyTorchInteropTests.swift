import Foundation
import Tessel
import XCTest
@testable import TesselData

/// Model files exchanged with PyTorch, both ways (fixtures from Tests/Fixtures/make_model_fixtures.py):
/// a Tessel-trained CNN that PyTorch loaded with `load_state_dict(strict=True)`, and an MLP
/// trained and saved by PyTorch with safetensors.
final class PyTorchInteropTests: XCTestCase {
    private struct Record: Decodable {
        let accuracy: Double
        let predictions: [Int32]
        let probabilities_first_10: [[Double]]
    }

    private static let records = Result {
        try JSONDecoder().decode([String: Record].self, from: Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/models/models.json")))
    }

    private func check(_ file: String, against key: String, devices: [Device]) throws {
        let record = try XCTUnwrap(try Self.records.get()[key])
        let test = try MNIST().test
        for device in devices {
            let model = try ModelFile(contentsOf: "Tests/Fixtures/models/\(file)", device: device)
            let evaluation = Evaluation(spec: model.spec, model: model.model,
                                        loader: DataLoader(test, batchSize: 1000, normalization: model.spec.normalization, device: device))
            // float32 sums in another order may flip a prediction that sits on a tie.
            let differing = zip(evaluation.predictions, record.predictions).filter { $0 != $1 }.count
            XCTAssertLessThanOrEqual(differing, 2, "\(file) on \(device): \(differing) predictions differ from PyTorch's")
            XCTAssertEqual(evaluation.accuracy, record.accuracy, accuracy: 2e-4, "\(file) on \(device)")
            let images = try model.spec.inputs(fromPixels: Array(test.pixels.prefix(10 * 784)), count: 10, device: device)
            let probabilities = Tensor.withoutGrad { model.spec.probabilities(model.model(images)) }.toArray()
            for (got, expected) in zip(probabilities, record.probabilities_first_10.joined()) {
                XCTAssertEqual(Double(got), expected, accuracy: 1e-4, "\(file) on \(device)")
            }
        }
    }

    func testATesselFilePredictsInPyTorchAsInTessel() throws {
        try check("tessel-cnn.safetensors", against: "tessel_cnn_in_pytorch", devices: Device.all)
    }

    func testAPyTorchTrainedStateDictEvaluatesTheSameInTessel() throws {
        try check("pytorch-mlp.safetensors", against: "pytorch_mlp", devices: Device.all)
    }
}
