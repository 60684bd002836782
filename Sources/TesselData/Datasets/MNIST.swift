import Foundation

/// A dataset folder in MNIST's layout: the four standard IDX files, plain or gzipped.
///
/// Any folder with those names and any number of classes works (Fashion-MNIST, KMNIST, ...).
public struct MNIST: Sendable {
    public let train: LabeledImages
    public let test: LabeledImages

    /// The four file names, without `.gz`.
    public static let fileNames = (trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
                                   testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// The folder bundled with Tessel (`Data/mnist` of the checkout), found from the working
    /// directory or, failing that, from the running executable's location.
    public static var bundledDirectory: String {
        var candidates = [FileManager.default.currentDirectoryPath]
        var executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(executable.path)
            executable.deleteLastPathComponent()
        }
        for root in candidates where FileManager.default.fileExists(atPath: root + "/Data/mnist") {
            return root + "/Data/mnist"
        }
        return "Data/mnist"
    }

    /// Reads the training and test sets from `directory`; the test set has the training set's
    /// class names, so a class missing from the test set keeps its index.
    public init(directory: String = MNIST.bundledDirectory) throws(TesselDataError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .fileNotFound(path: directory)
        }
        let names = MNIST.fileNames
        let train = try LabeledImages(images: try MNIST.find(names.trainImages, in: directory),
                                      labels: try MNIST.find(names.trainLabels, in: directory))
        let test = try LabeledImages(images: try MNIST.find(names.testImages, in: directory),
                                     labels: try MNIST.find(names.testLabels, in: directory))
        guard train.rows == test.rows, train.columns == test.columns else {
            throw .wrongDimensions(path: directory + "/" + names.testImages, dimensions: [test.count, test.rows, test.columns],
                                   expected: "images of the training set's \(train.rows)x\(train.columns)")
        }
        let classCount = Swift.max(train.classCount, test.classCount)
        let classNames = (0..<classCount).map(String.init)
        self.train = LabeledImages(pixels: train.pixels, labels: train.labels, rows: train.rows, columns: train.columns, classNames: classNames)
        self.test = LabeledImages(pixels: test.pixels, labels: test.labels, rows: test.rows, columns: test.columns, classNames: classNames)
    }

    /// fast.ai's `MNIST_SAMPLE`: 3s and 7s only (train 6131 + 6265, valid 1010 + 1028), labelled
    /// 0 for "3" and 1 for "7".
    public var sample: (train: LabeledImages, valid: LabeledImages) {
        (train.subset(classes: [3, 7]), test.subset(classes: [3, 7]))
    }

    private static func find(_ name: String, in directory: String) throws(TesselDataError) -> String {
        let tried = [name, name + ".gz"]
        for candidate in tried where FileManager.default.fileExists(atPath: directory + "/" + candidate) {
            return directory + "/" + candidate
        }
        throw .fileNotFound(path: directory, tried: tried)
    }
}
