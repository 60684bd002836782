import Foundation
import XCTest
@testable import TesselData

/// IDX files, plain and gzipped, and every way one can be wrong.
final class IDXTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "tessel-idx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func write(_ bytes: [UInt8], _ name: String) -> String {
        let path = folder + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    private func assertError(_ expected: TesselDataError, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? TesselDataError, expected, file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)", file: file, line: line)
        }
    }

    func testBundledMNISTReadsFromGzip() throws {
        let mnist = try MNIST()
        XCTAssertEqual(mnist.train.count, 60000)
        XCTAssertEqual(mnist.test.count, 10000)
        XCTAssertEqual([mnist.train.rows, mnist.train.columns], [28, 28])
        XCTAssertEqual(mnist.train.classNames, (0...9).map(String.init))
        // Values read by NumPy from the same files.
        XCTAssertEqual(Array(mnist.train.labels.prefix(10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        XCTAssertEqual(Array(mnist.test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(mnist.train.pixels.reduce(0) { $0 + Int($1) }, 1_567_298_545)
        XCTAssertEqual(mnist.train.image(0).reduce(0) { $0 + Int($1) }, 27525)
    }

    func testMNISTSampleIsTheLessonsThreesAndSevens() throws {
        let (train, valid) = try MNIST().sample
        XCTAssertEqual(train.classNames, ["3", "7"])
        XCTAssertEqual(train.labels.filter { $0 == 0 }.count, 6131)
        XCTAssertEqual(train.labels.filter { $0 == 1 }.count, 6265)
        XCTAssertEqual(valid.labels.filter { $0 == 0 }.count, 1010)
        XCTAssertEqual(valid.labels.filter { $0 == 1 }.count, 1028)
    }

    func testPlainFilesAndAnyNumberOfClasses() throws {
        // A 3-class dataset of 2x3 images in a folder of plain (not gzipped) files.
        let images: [UInt8] = Array(0..<24), labels: [UInt8] = [0, 2, 1, 2]
        _ = write(IDXFile.encode(images, dimensions: [4, 2, 3]), "train-images-idx3-ubyte")
        _ = write(IDXFile.encode(labels, dimensions: [4]), "train-labels-idx1-ubyte")
        _ = write(IDXFile.encode(Array(images[..<12]), dimensions: [2, 2, 3]), "t10k-images-idx3-ubyte")
        _ = write(IDXFile.encode([1, 0], dimensions: [2]), "t10k-labels-idx1-ubyte")
        let data = try MNIST(directory: folder)
        XCTAssertEqual(data.train.pixels, images)
        XCTAssertEqual(data.train.labels, [0, 2, 1, 2])
        XCTAssertEqual(data.train.classNames, ["0", "1", "2"])
        XCTAssertEqual(data.test.classNames, ["0", "1", "2"], "the test set keeps the training set's classes")
        XCTAssertEqual([data.test.rows, data.test.columns], [2, 3])
    }

    func testMissingFolderAndFiles() {
        assertError(.fileNotFound(path: folder + "/nope")) { _ = try MNIST(directory: folder + "/nope") }
        assertError(.fileNotFound(path: folder, tried: ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"])) {
            _ = try MNIST(directory: folder)
        }
        assertError(.fileNotFound(path: folder + "/x")) { _ = try IDXFile(contentsOf: folder + "/x") }
    }

    func testWrongMagicNumber() {
        let path = write([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0], "zip")
        assertError(.badMagic(path: path, found: [0x50, 0x4B, 0x03, 0x04])) { _ = try IDXFile(contentsOf: path) }
        XCTAssertEqual(TesselDataError.badMagic(path: "f", found: [0x50, 0x4B, 0x03, 0x04]).description,
                       "f: not an IDX file (magic bytes 50 4b 03 04, expected 00 00 08 0N)")
        let empty = write([], "empty")
        assertError(.badMagic(path: empty, found: [])) { _ = try IDXFile(contentsOf: empty) }
        let floats = write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "floats")
        assertError(.unsupportedIDXType(path: floats, code: 0x0D)) { _ = try IDXFile(contentsOf: floats) }
    }

    func testTruncatedBodyAndHeader() {
        let full = IDXFile.encode(Array(repeating: 7, count: 2 * 28 * 28), dimensions: [2, 28, 28])
        let short = write(Array(full.dropLast(100)), "short")
        assertError(.truncated(path: short, expectedBytes: 1568, foundBytes: 1468)) { _ = try IDXFile(contentsOf: short) }
        XCTAssertEqual(TesselDataError.truncated(path: "f", expectedBytes: 1568, foundBytes: 1468).description,
                       "f: truncated: the header promises 1568 bytes of data, the file holds 1468")
        let header = write(Array(full.prefix(9)), "header")
        assertError(.truncated(path: header, expectedBytes: 16, foundBytes: 9)) { _ = try IDXFile(contentsOf: header) }
        let long = write(full + [1, 2], "long")
        assertError(.truncated(path: long, expectedBytes: 1568, foundBytes: 1570)) { _ = try IDXFile(contentsOf: long) }
    }

    func testCorruptAndTruncatedGzip() throws {
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Data/mnist/t10k-labels-idx1-ubyte.gz")))
        let cut = write(Array(compressed.prefix(compressed.count / 2)), "cut.gz")
        assertError(.corruptGzip(path: cut, reason: "the stream ends early (truncated file)")) { _ = try IDXFile(contentsOf: cut) }
        var damaged = compressed
        for index in 20..<60 { damaged[index] ^= 0x5A }
        let bad = write(damaged, "bad.gz")
        XCTAssertThrowsError(try IDXFile(contentsOf: bad)) { error in
            guard case .corruptGzip(let path, _)? = error as? TesselDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, bad)
        }
    }

    func testImagesAndLabelsMustAgree() {
        let images = write(IDXFile.encode(Array(repeating: 0, count: 3 * 4), dimensions: [3, 2, 2]), "images")
        let labels = write(IDXFile.encode([0, 1], dimensions: [2]), "labels")
        assertError(.countMismatch(images: images, imageCount: 3, labels: labels, labelCount: 2)) {
            _ = try LabeledImages(images: images, labels: labels)
        }
        assertError(.wrongDimensions(path: labels, dimensions: [2], expected: "[images, rows, columns]")) {
            _ = try LabeledImages(images: labels, labels: images)
        }
    }
}
