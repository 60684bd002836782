import Tessel
import XCTest
@testable import TesselData

/// Batches on each device: sizes, drop-last, seeded shuffles, scaling and normalisation.
final class DataLoaderTests: XCTestCase {
    /// 10 images of 1x2 pixels: image i holds bytes (i, 2i), label i % 3.
    private let data = LabeledImages(pixels: (0..<10).flatMap { [UInt8($0), UInt8(2 * $0)] }, labels: (0..<10).map { Int32($0 % 3) },
                                     rows: 1, columns: 2)

    func testBatchesInOrderWithAndWithoutDropLast() {
        for device in Device.all {
            let loader = DataLoader(data, batchSize: 4, device: device)
            XCTAssertEqual(loader.batchCount, 3)
            let batches = Array(loader.epoch())
            XCTAssertEqual(batches.map(\.count), [4, 4, 2])
            XCTAssertEqual(batches[0].images.shape, [4, 1, 1, 2])
            XCTAssertEqual(batches[2].labels.scalars(as: Int32.self), [2, 0], "\(device)")
            for (got, expected) in zip(batches[1].images.toArray(), [4, 8, 5, 10, 6, 12, 7, 14]) {
                XCTAssertEqual(got, Float(expected) / 255, accuracy: 1e-6, "\(device)")
            }
            let dropping = DataLoader(data, batchSize: 4, dropLast: true, device: device)
            XCTAssertEqual(Array(dropping.epoch()).map(\.count), [4, 4])
            XCTAssertEqual(dropping.inOrder().map(\.count), [4, 4, 2], "evaluation sees every example")
        }
    }

    /// The fitted mean and deviation against a Double two-pass reference, on this set and on
    /// bytes up to 255 (where a 32-bit sum of squares would have overflowed long before 47
    /// million pixels), and a constant set's deviation floored.
    func testNormalizationFittedToImages() {
        let bright = LabeledImages(pixels: (0..<4096).map { UInt8(($0 * 37) % 256) }, labels: [Int32](repeating: 0, count: 16),
                                   rows: 16, columns: 16)
        for set in [data, bright] {
            let values = set.pixels.map { Double($0) / 255 }
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            let fitted = Normalization(fittedTo: set)
            XCTAssertEqual(Double(fitted.mean), mean, accuracy: 1e-6)
            XCTAssertEqual(Double(fitted.std), std, accuracy: 1e-6)
        }
        let blank = LabeledImages(pixels: [UInt8](repeating: 7, count: 8), labels: [0, 0], rows: 2, columns: 2)
        XCTAssertEqual(Normalization(fittedTo: blank).std, 1e-6)
    }

    func testNormalisation() {
        let loader = DataLoader(data, batchSize: 10, normalization: Normalization(mean: 0.5, std: 0.25), device: .cpu)
        let expected = data.pixels.map { (Float($0) / 255 - 0.5) / 0.25 }
        let got = loader.images.toArray()
        for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testSeededShuffleVisitsEachExampleOnceAndRepeatsOnEveryDevice() {
        var orders: [[[Float]]] = []
        for device in Device.all {
            let loader = DataLoader(data, batchSize: 3, shuffle: true, seed: 42, device: device)
            var epochs: [[Float]] = []
            for _ in 0..<2 {
                let batches = Array(loader.epoch())
                // The first pixel of image i is i / 255; its label must travel with it.
                let firsts = batches.flatMap { batch in batch.images.reshape([-1, 2])[0..., 0].toArray().map { ($0 * 255).rounded() } }
                let labels = batches.flatMap { $0.labels.scalars(as: Int32.self) }
                XCTAssertEqual(firsts.sorted(), (0..<10).map(Float.init), "each example once (\(device))")
                XCTAssertEqual(labels, firsts.map { Int32(Int($0) % 3) }, "labels follow their images (\(device))")
                epochs.append(firsts)
            }
            XCTAssertNotEqual(epochs[0], epochs[1], "a new order each epoch")
            XCTAssertNotEqual(epochs[0], (0..<10).map(Float.init))
            orders.append(epochs)
        }
        XCTAssertEqual(Set(orders.map { $0.description }).count, 1, "the same order on every device")
        let again = DataLoader(data, batchSize: 3, shuffle: true, seed: 42, device: .cpu)
        let first = Array(again.epoch()).flatMap { $0.labels.scalars(as: Int32.self) }
        XCTAssertEqual(first, orders[0][0].map { Int32(Int($0) % 3) }, "the same seed repeats")
    }
}
