import ArgumentParser
import Foundation
import Tessel
import TesselData

extension ModelSpec.Architecture: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}

/// `--data DIR`: a folder of the four MNIST-layout IDX files (the bundled MNIST by default).
struct DataOptions: ParsableArguments {
    @Option(help: "A folder holding the four MNIST-layout IDX files, plain or gzipped (default: the bundled Data/mnist).")
    var data: String?

    func load() throws -> MNIST { try MNIST(directory: data ?? MNIST.bundledDirectory) }
}

/// `--device D`: auto (the best device found), cpu or opencl:N.
struct DeviceOptions: ParsableArguments {
    @Option(help: "auto (a GPU if one is found, else the CPU), cpu, or opencl:N.")
    var device = "auto"

    /// The device, started (so a missing or broken one fails before any work).
    func resolve() throws -> Device {
        let chosen = device == "auto" ? Device.best : try Device(parsing: device)
        _ = try chosen.backend()
        return chosen
    }
}

/// Fails now, not after training, if `path` cannot be written (its folder is made if missing).
func checkWritable(_ path: String, option: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError("cannot write \(option) \(path): it is a folder")
    }
    let existed = FileManager.default.fileExists(atPath: path)
    let writable = existed ? FileManager.default.isWritableFile(atPath: path) : FileManager.default.createFile(atPath: path, contents: nil)
    guard writable else { throw ValidationError("cannot write \(option) \(path): check that its folder exists and is writable") }
    if !existed { try? FileManager.default.removeItem(atPath: path) }
}

/// The images of `data` whose class names are `names`, relabelled in that order (a 3-vs-7
/// model evaluated on MNIST's test set sees only its 3s and 7s).
func select(_ data: LabeledImages, classNames names: [String], source: String) throws -> LabeledImages {
    if data.classNames == names { return data }
    var indices: [Int] = []
    for name in names {
        guard let index = data.classNames.firstIndex(of: name) else {
            throw ValidationError("the model's class '\(name)' is not among the data's classes (\(data.classNames.joined(separator: ", "))) in \(source)")
        }
        indices.append(index)
    }
    return data.subset(classes: indices)
}

/// `0.9812` as `98.12%`.
func percent(_ value: Double) -> String { value.isNaN ? "-" : String(format: "%.2f%%", 100 * value) }

/// `mm:ss`, as fastai prints epoch times.
func clock(_ seconds: Double) -> String { String(format: "%02d:%02d", Int(seconds) / 60, Int(seconds) % 60) }

/// Whether standard output is a terminal (live progress) or a file or pipe (plain lines).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

/// Prints and flushes (progress lines must show before the next step).
func emit(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
