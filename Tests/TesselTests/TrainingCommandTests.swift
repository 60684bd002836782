import Foundation
import XCTest

/// `tessel train`, `eval`, `predict` and `baseline` as a user runs them (the built binary, its
/// output not a terminal): the whole path from the bundled MNIST to a model file, its report
/// and predictions, and every bad input rejected in one line before any long work.
final class TrainingCommandTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tessel-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) { try runTessel(arguments) }

    func testTrainEvalPredictFromTheBundledData() throws {
        let model = folder + "/mlp.safetensors", json = folder + "/mlp.json"
        let (status, output) = try run(["train", "--model", "mlp", "--epochs", "2", "--device", "cpu", "--out", model, "--json", json])
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("epoch  train_loss   valid_loss   accuracy   time") }, output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("1      0.") }, "a row for epoch 1:\n\(output)")
        XCTAssertTrue(lines.contains { $0.contains("epoch 2/2 [") && $0.contains("samples/s") && $0.contains("ETA") }, "plain progress lines:\n\(output)")
        XCTAssertFalse(output.contains("\u{1B}["), "no terminal escapes when the output is not a terminal")
        XCTAssertTrue(lines.contains("model:  \(model)"), output)
        XCTAssertTrue(lines.contains("report: \(folder!)/mlp-report/index.html"), output)
        for file in ["index.html", "loss.svg", "accuracy.svg", "confusion.svg", "top-losses.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder!)/mlp-report/\(file)"), file)
        }
        let records = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]]
        XCTAssertEqual(records?.count, 2)
        for key in ["epoch", "train_seconds", "train_loss", "valid_loss", "valid_accuracy"] { XCTAssertNotNil(records?.last?[key], key) }
        XCTAssertGreaterThan(records?.last?["valid_accuracy"] as? Double ?? 0, 0.96)

        let (evalStatus, evaluation) = try run(["eval", "--model", model, "--device", "cpu", "--top", "3"])
        XCTAssertEqual(evalStatus, 0, evaluation)
        XCTAssertTrue(evaluation.contains("10000 test images"), evaluation)
        XCTAssertTrue(evaluation.contains("confusion matrix (rows: label, columns: prediction)"), evaluation)
        XCTAssertEqual(evaluation.split(separator: "\n").filter { $0.hasPrefix("  #") }.count, 3, evaluation)
        let accuracy = try XCTUnwrap(evaluation.split(separator: "\n").first { $0.hasPrefix("accuracy ") })
        XCTAssertTrue(output.contains(String(accuracy.dropFirst("accuracy ".count).prefix(6))), "eval agrees with train: \(accuracy)")

        let images = "Tests/Fixtures/images/"
        let (predictStatus, predictions) = try run(["predict", "--model", model, "--device", "cpu", images + "test0-label7-gray.png",
                                                    images + "test0-label7-rgb.png", images + "test1-label2.raw", images + "test2-label1-gray.png"])
        XCTAssertEqual(predictStatus, 0, predictions)
        let labels = predictions.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { $0.components(separatedBy: ": label ").last!.prefix(1) }
        XCTAssertEqual(labels, ["7", "7", "2", "1"], predictions)
        XCTAssertTrue(predictions.contains("probabilities 0 0.0"), predictions)
    }

    func testLinearModelAndBaselineOnThreesAndSevens() throws {
        let (status, output) = try run(["baseline", "--device", "cpu"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("3s    91.68%") && output.contains("7s    98.54%") && output.contains("mean  95.11%"), output)
        let model = folder + "/linear.safetensors"
        let (trainStatus, trained) = try run(["train", "--model", "linear", "--device", "cpu", "--out", model])
        XCTAssertEqual(trainStatus, 0, trained)
        let (evalStatus, evaluation) = try run(["eval", "--model", model, "--device", "cpu"])
        XCTAssertEqual(evalStatus, 0, evaluation)
        XCTAssertTrue(evaluation.contains("2038 test images"), "only the test set's 3s and 7s:\n\(evaluation)")
    }

    func testBadInputsAreOneLineErrorsBeforeAnyWork() throws {
        let model = folder + "/m.safetensors"
        _ = try run(["train", "--model", "linear", "--epochs", "1", "--device", "cpu", "--out", model])
        let data = folder + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try FileManager.default.copyItem(atPath: "Data/mnist/\(name).gz", toPath: "\(data)/\(name).gz")
        }
        try Data("PK\u{3}\u{4}not idx".utf8).write(to: URL(fileURLWithPath: data + "/train-labels-idx1-ubyte"))
        let truncated = folder + "/truncated"
        try FileManager.default.createDirectory(atPath: truncated, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "Data/mnist/\(name).gz"))
            try (name == "t10k-labels-idx1-ubyte" ? bytes.prefix(bytes.count - 100) : bytes).write(to: URL(fileURLWithPath: "\(truncated)/\(name).gz"))
        }
        var shaped = try Data(contentsOf: URL(fileURLWithPath: model))
        shaped.removeLast(8)
        let cut = folder + "/cut.safetensors"
        try shaped.write(to: URL(fileURLWithPath: cut))
        let cases: [([String], String)] = [
            (["train", "--model", "resnet"], "The value 'resnet' is invalid for '--model <model>'"),
            (["train", "--device", "opencl:9"], "no device 'opencl:9' on this machine"),
            (["train", "--device", "gpu"], "invalid device name 'gpu'"),
            (["train", "--lr", "fast"], "The value 'fast' is invalid for '--lr <lr>'"),
            (["train", "--lr=-0.1"], "--lr must be a positive number, got -0.1"),
            (["train", "--lr", "-0.1"], "Missing value for '--lr <lr>'"),
            (["train", "--lr", "nan"], "--lr must be a positive number, got nan"),
            (["train", "--epochs", "0"], "--epochs must be at least 1, got 0"),
            (["train", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
            (["train", "--out", "/proc/forbidden/m.safetensors"], "cannot write --out /proc/forbidden/m.safetensors"),
            (["train", "--out", folder + "/m.bin"], "--out must name a .safetensors file"),
            (["train", "--json", "/proc/forbidden.json", "--out", model], "cannot write --json /proc/forbidden.json"),
            (["train", "--data", folder + "/none", "--out", model], "\(folder!)/none: no such file"),
            (["train", "--data", data, "--out", model], "\(data)/train-labels-idx1-ubyte: not an IDX file (magic bytes 50 4b 03 04"),
            (["train", "--data", truncated, "--out", model], "\(truncated)/t10k-labels-idx1-ubyte.gz: corrupt gzip data: the stream ends early"),
            (["eval", "--model", folder + "/missing.safetensors"], "\(folder!)/missing.safetensors: no such file"),
            (["eval", "--model", cut], "\(cut): not a valid model file: "),
            (["eval", "--model", "Tests/Fixtures/images/test0-label7.raw"], "not a valid model file"),
            (["predict", "--model", model, "Tests/Fixtures/images/wrong-size-10x12.png"], "the PNG is 10x12 pixels, the model takes 28x28"),
            (["predict", "--model", model, "Tests/Fixtures/images/truncated.png"], "truncated.png: "),
            (["predict", "--model", model, "Package.swift"], "neither a PNG nor 784 raw bytes"),
            (["predict", "--model", model, folder + "/nope.png"], "nope.png: no such file"),
            (["predict", "--model", model], "Missing expected argument '<images> ...'"),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try run(arguments + (arguments.contains("--device") ? [] : ["--device", "cpu"]))
            XCTAssertNotEqual(status, 0, "\(arguments) exited 0:\n\(output)")
            XCTAssertTrue(output.contains(expected), "\(arguments): expected \"\(expected)\" in:\n\(output)")
            XCTAssertFalse(output.contains("train_loss"), "\(arguments) started training before rejecting its input")
            XCTAssertFalse(output.contains("Fatal error") || output.contains("Stack dump"), "\(arguments) crashed:\n\(output)")
            let errorLines = output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            XCTAssertEqual(errorLines.count, 1, "\(arguments): one error line in:\n\(output)")
        }
    }
}
