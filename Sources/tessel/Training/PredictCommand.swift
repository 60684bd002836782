import ArgumentParser
import Foundation
import Tessel
import TesselData

/// `tessel predict`: the label, index and class probabilities of each image, as fastai's
/// `learn.predict` returns them.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify images (PNG files, or raw files of rows x columns bytes) with a saved model."
    )

    @Option(help: "The model file (.safetensors) that `tessel train` wrote.")
    var model: String

    @OptionGroup var deviceOptions: DeviceOptions

    @Argument(help: "PNG files (any colour type; drawn as MNIST: white digit on black) or raw byte files.")
    var images: [String]

    func run() throws {
        let device = try deviceOptions.resolve()
        let file = try ModelFile(contentsOf: model, device: device)
        let (rows, columns) = (file.spec.inputShape[1], file.spec.inputShape[2])
        var pixels: [UInt8] = []
        for path in images { pixels += try readImage(path, rows: rows, columns: columns) }
        let inputs = try file.spec.inputs(fromPixels: pixels, count: images.count, device: device)
        let probabilities = Tensor.withoutGrad { file.spec.probabilities(file.model(inputs)) }
        let values = probabilities.toArray(), classes = file.spec.classCount
        for (row, path) in images.enumerated() {
            let p = Array(values[row * classes..<(row + 1) * classes])
            let index = p.indices.max { p[$0] < p[$1] }!
            emit("\(path): label \(file.spec.classNames[index]), index \(index), probability \(String(format: "%.4f", p[index]))")
            emit("  probabilities " + zip(file.spec.classNames, p).map { "\($0) \(String(format: "%.4f", $1))" }.joined(separator: "  "))
        }
    }
}

/// An image file as `rows * columns` gray bytes: a PNG of that size, or exactly that many raw bytes.
func readImage(_ path: String, rows: Int, columns: Int) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw TesselDataError.fileNotFound(path: path) }
    let bytes = [UInt8](data)
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
        let image = try decodePNGGrayscale(bytes, path: path)
        guard image.rows == rows, image.columns == columns else {
            throw TesselDataError.badImage(path: path, reason: "the PNG is \(image.columns)x\(image.rows) pixels, the model takes \(columns)x\(rows)")
        }
        return image.pixels
    }
    guard bytes.count == rows * columns else {
        throw TesselDataError.badImage(path: path, reason: "neither a PNG nor \(rows * columns) raw bytes (\(rows)x\(columns)); it holds \(bytes.count) bytes")
    }
    return bytes
}
