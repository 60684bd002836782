import Foundation
import XCTest

/// The `tessel` command as a user runs it: bad arguments are rejected before anything runs,
/// with a message and a non-zero exit.
final class CommandLineTests: XCTestCase {
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try runTessel(arguments, environment: environment)
    }

    func testBenchRejectsBadArgumentsBeforeRunning() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: builtTessel.path), "no tessel at \(builtTessel.path)")
        let cases: [([String], String)] = [
            (["bench", "--sizes=-5"], "GEMM size '-5' is not N or MxKxN with positive integers"),
            (["bench", "--sizes", "0"], "GEMM size '0' is not N or MxKxN with positive integers"),
            (["bench", "--sizes", "3xabcx4x5"], "GEMM size '3xabcx4x5' is not N or MxKxN with positive integers"),
            (["bench", "--elements", "12,,4"], "element count '' is not a positive integer"),
            (["bench", "--budget=-1"], "--budget must be a positive number of seconds, got -1.0"),
            (["bench", "--ops", "gemm,nope"], "unknown kernel family 'nope'"),
            (["bench", "--json", "/nonexistent-folder/report.json"], "cannot write --json /nonexistent-folder/report.json"),
        ]
        for (arguments, expected) in cases {
            let (status, output) = try run(arguments)
            XCTAssertNotEqual(status, 0, "\(arguments) exited 0")
            XCTAssertTrue(output.contains(expected), "\(arguments): expected \"\(expected)\" in:\n\(output)")
            XCTAssertFalse(output.contains("GFLOP/s"), "\(arguments) ran a benchmark before rejecting its arguments")
        }
    }

    func testOverheadFamilyReportsMicrosecondsPerCall() throws {
        let (status, output) = try run(["bench", "--device", "cpu", "--ops", "overhead", "--budget", "0.01"])
        XCTAssertEqual(status, 0, output)
        for call in ["add [128,100]", "mul scalar [4]", "relu [4]", "add broadcast [128,100]", "sum [4]", "add inplace [4]"] {
            let row = output.split(separator: "\n").first { $0.contains(call) }
            XCTAssertNotNil(row, "no row for \(call) in:\n\(output)")
            XCTAssertTrue(row?.contains("us/call") ?? false, "\(call): \(row ?? "")")
        }
    }

    func testTrainStepFamilyRunsBothModelsOnEveryDevice() throws {
        let (status, output) = try run(["bench", "--ops", "train-step", "--budget", "0.01"])
        XCTAssertEqual(status, 0, output)
        for step in ["mlp 784-100-10 batch 128", "cnn batch 128"] {
            XCTAssertTrue(output.split(separator: "\n").contains { $0.contains(step) && $0.contains("GFLOP/s") }, "no \(step) row in:\n\(output)")
        }
        XCTAssertFalse(output.contains("WRONG"), "a device's step differs from the CPU's:\n\(output)")
    }

    func testBadTesselDeviceIsAnErrorNamingTheDevices() throws {
        let (status, output) = try run(["devices"], environment: ["TESSEL_DEVICE": "opencl:9"])
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains("TESSEL_DEVICE=opencl:9: no device 'opencl:9' on this machine"), output)
        XCTAssertTrue(output.contains("the devices here are cpu"), output)
    }
}
