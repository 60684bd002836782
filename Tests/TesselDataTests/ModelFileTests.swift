import Foundation
import Tessel
import TesselNN
import XCTest
@testable import TesselData

/// safetensors files: round trips, the format's checks, and model files built on them.
final class ModelFileTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tessel-models-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func invalid(_ bytes: [UInt8], _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors(parsing: bytes, path: "m"), file: file, line: line) { error in
            XCTAssertEqual(error as? TesselDataError, .invalidModelFile(path: "m", reason: reason), file: file, line: line)
        }
    }

    /// A file from a header written by hand and `data` bytes.
    private func file(header: String, data: [UInt8] = []) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + data
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        var written = SafeTensors(metadata: ["format": "pt", "note": "a \"quoted\" value/with slash"])
        written.append("0.weight", try Tensor([1.5, -2, 3, 4, 5, 6] as [Float], shape: [2, 3]))
        written.append("labels", Tensor([7, -1] as [Int32]))
        written.append("empty", Tensor.zeros([0, 4]))
        let bytes = written.encoded()
        XCTAssertEqual((bytes.count - 8 - 24 - 8) % 8, 0, "the data starts 8-aligned")
        let read = try SafeTensors(parsing: bytes, path: "m")
        XCTAssertEqual(read.metadata, written.metadata)
        XCTAssertEqual(read.entries.map(\.name), ["0.weight", "labels", "empty"])
        XCTAssertEqual(read["0.weight"]?.dtype, "F32")
        XCTAssertEqual(read.tensor("0.weight")?.shape, [2, 3])
        XCTAssertEqual(read.tensor("0.weight")?.toArray(), [1.5, -2, 3, 4, 5, 6])
        XCTAssertEqual(read.tensor("labels")?.scalars(as: Int32.self), [7, -1])
        XCTAssertEqual(read.tensor("empty")?.shape, [0, 4])
        // The little-endian layout the spec fixes: 1.5 is 0x3FC00000.
        let dataStart = bytes.count - (6 + 2) * 4
        XCTAssertEqual(Array(bytes[dataStart..<dataStart + 4]), [0x00, 0x00, 0xC0, 0x3F])
    }

    func testReadsInt64AndFloat64AsPyTorchWritesThem() throws {
        let data = withUnsafeBytes(of: Int64(-3).littleEndian) { Array($0) } + withUnsafeBytes(of: Double(0.25).bitPattern.littleEndian) { Array($0) }
        let read = try SafeTensors(parsing: file(header: #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[],"data_offsets":[8,16]}}"#, data: data), path: "m")
        XCTAssertEqual(read.tensor("a")?.scalars(as: Int32.self), [-3])
        XCTAssertEqual(read.tensor("b")?.item(), 0.25)
    }

    func testEveryFormatViolationIsAOneLineError() {
        invalid([1, 2, 3], "3 bytes, shorter than the 8-byte header length")
        func length(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        invalid(length(1 << 40) + [UInt8](repeating: 0x20, count: 8), "a header of 1099511627776 bytes is over the format's limit of 100000000")
        invalid(length(100_000_001) + [UInt8](repeating: 0x20, count: 8), "a header of 100000001 bytes is over the format's limit of 100000000")
        invalid([40, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), "truncated: the header needs 40 bytes, the file holds 2 after its length")
        invalid(file(header: "[1, 2]"), "the header is not a JSON object")
        invalid(file(header: "{not json"), "the header is not a JSON object")
        invalid(file(header: #"{"__metadata__":{"a":1}}"#), "__metadata__ must map strings to strings")
        invalid(file(header: #"{"w":{"dtype":"F32","shape":[2]}}"#), "tensor 'w' needs a dtype, a shape and two data_offsets")
        invalid(file(header: #"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                "tensor 'w' needs a dtype, a shape and two data_offsets")
        invalid(file(header: #"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
                "tensor 'w' has dtype BF16 (supported: F32, F64, I32, I64)")
        invalid(file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                "tensor 'w' of shape [3] and dtype F32 cannot fill data_offsets [0, 8]")
        invalid(file(header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                "tensor 'w' has a negative dimension or reversed offsets")
        invalid(file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 12)),
                "truncated: tensor 'w' ends at byte 16 of the data, the file holds 12")
        invalid(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                     data: Array(repeating: 0, count: 12)),
                "tensor 'b' starts at byte 8 of the data, expected 4 (tensors must be packed without gaps or overlap)")
        invalid(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                     data: Array(repeating: 0, count: 4)),
                "tensor 'b' starts at byte 0 of the data, expected 4 (tensors must be packed without gaps or overlap)")
        invalid(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 6)),
                "2 bytes after the last tensor")
    }

    func testModelFilesRoundTripEveryArchitectureOnEveryDevice() throws {
        let images = Tensor.rand([5, 1, 28, 28], generator: Generator(seed: 9))
        for architecture in ModelSpec.Architecture.allCases {
            let spec = ModelSpec(architecture: architecture, classNames: architecture == .linear ? ["3", "7"] : (0...9).map(String.init),
                                 hidden: 32, normalization: Normalization(mean: 0.25, std: 0.5))
            let model = spec.makeModel(generator: Generator(seed: 4), device: .cpu)
            let path = folder + "/\(architecture).safetensors"
            try ModelFile(spec: spec, model: model).write(to: path)
            let expected = Tensor.withoutGrad { spec.probabilities(model(images)) }.toArray()
            for device in Device.all {
                let loaded = try ModelFile(contentsOf: path, device: device)
                XCTAssertEqual(loaded.spec, spec)
                XCTAssertEqual(loaded.model.namedParameters.map(\.name), model.namedParameters.map(\.name))
                XCTAssertFalse(loaded.model.isTraining)
                let got = Tensor.withoutGrad { loaded.spec.probabilities(loaded.model(images.to(device))) }.toArray()
                for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(architecture) on \(device)") }
            }
        }
    }

    func testPyTorchNamesAndShapes() {
        let spec = ModelSpec(architecture: .cnn, classNames: (0...9).map(String.init))
        let shapes = spec.makeModel(generator: Generator(seed: 1), device: .cpu).namedParameters.map { "\($0.name) \($0.tensor.shape)" }
        XCTAssertEqual(shapes, ["0.weight [32, 1, 3, 3]", "0.bias [32]", "3.weight [64, 32, 3, 3]", "3.bias [64]", "7.weight [10, 1600]", "7.bias [10]"])
        let mlp = ModelSpec(architecture: .mlp, classNames: (0...9).map(String.init)).makeModel(generator: Generator(seed: 1), device: .cpu)
        XCTAssertEqual(mlp.namedParameters.map { "\($0.name) \($0.tensor.shape)" }, ["1.weight [100, 784]", "1.bias [100]", "3.weight [10, 100]", "3.bias [10]"])
    }

    func testModelFilesThatDoNotFitTheirArchitecture() throws {
        let spec = ModelSpec(architecture: .mlp, classNames: (0...9).map(String.init), hidden: 8)
        let model = spec.makeModel(generator: Generator(seed: 4), device: .cpu)
        func save(_ edit: (inout SafeTensors) -> Void) throws -> String {
            var file = SafeTensors(metadata: spec.metadata)
            for (name, tensor) in model.namedParameters { file.append(name, tensor) }
            edit(&file)
            let path = folder + "/edited.safetensors"
            try file.write(to: path)
            return path
        }
        func expect(_ path: String, _ error: TesselDataError, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try ModelFile(contentsOf: path), file: file, line: line) { XCTAssertEqual($0 as? TesselDataError, error, file: file, line: line) }
        }
        var path = try save { $0.append("5.weight", Tensor.zeros([2])) }
        expect(path, .modelMismatch(path: path, reason: "tensors 5.weight are not part of a mlp model"))
        path = try save { file in
            file = SafeTensors(metadata: spec.metadata)
            for (name, tensor) in model.namedParameters where name != "3.bias" { file.append(name, tensor) }
        }
        expect(path, .modelMismatch(path: path, reason: "a mlp model needs tensors 3.bias, missing from the file"))
        path = try save { file in
            file = SafeTensors(metadata: spec.metadata)
            for (name, tensor) in model.namedParameters { file.append(name, name == "1.weight" ? Tensor.zeros([8, 783]) : tensor) }
        }
        expect(path, .modelMismatch(path: path, reason: "tensor 1.weight has shape [8, 783], a mlp model needs [8, 784]"))
        path = try save { $0.metadata["tessel.architecture"] = "resnet" }
        expect(path, .invalidModelFile(path: path, reason: "unknown architecture 'resnet' (known: linear, mlp, cnn)"))
        path = try save { $0.metadata.removeValue(forKey: "tessel.classes") }
        expect(path, .invalidModelFile(path: path, reason: "the metadata has no 'tessel.classes' (not written by Tessel?)"))
        path = try save { $0.metadata["tessel.normalize.std"] = "0" }
        expect(path, .invalidModelFile(path: path, reason: "metadata 'tessel.normalize.std' = '0' is not valid"))
        let cut = folder + "/cut.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try save { _ in }))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try ModelFile(contentsOf: cut)) { error in
            guard case .invalidModelFile(_, let reason)? = error as? TesselDataError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("truncated: tensor '3.bias' ends at byte"), reason)
        }
        expect(folder + "/none.safetensors", .fileNotFound(path: folder + "/none.safetensors"))
    }

    func testPNGDecodingAgainstAnIndependentEncoder() throws {
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/images/test0-label7.raw")))
        for name in ["gray", "rgb", "rgba"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/images/test0-label7-\(name).png")))
            let image = try decodePNGGrayscale(bytes, path: name)
            XCTAssertEqual([image.rows, image.columns], [28, 28])
            if name == "gray" { XCTAssertEqual(image.pixels, raw) } else {
                // libpng's RGB -> gray conversion rounds; within 1 of the original.
                XCTAssertTrue(zip(image.pixels, raw).allSatisfy { abs(Int($0) - Int($1)) <= 1 }, name)
            }
        }
        let truncated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/images/truncated.png")))
        XCTAssertThrowsError(try decodePNGGrayscale(truncated, path: "t")) { error in
            guard case .badImage(let path, _)? = error as? TesselDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "t")
        }
        XCTAssertThrowsError(try decodePNGGrayscale(Array("not a png at all".utf8), path: "x"))
    }
}
