import Foundation
import Synchronization
import XCTest
@testable import Tessel

/// Programmer errors stop the program with a message that names the op and the shapes, in the
/// release build the tests run in. Each case runs in a child process (this test binary again,
/// told which case to run through the environment), and the parent reads its standard error.
final class ProgrammerErrorTests: XCTestCase {
    /// A case: what the child runs, and what its standard error must contain.
    struct Case {
        let name: String
        let environment: [String: String]
        let expected: String
        let body: @Sendable () -> Void

        init(_ name: String, environment: [String: String] = [:], expect expected: String, _ body: @escaping @Sendable () -> Void) {
            self.name = name
            self.environment = environment
            self.expected = expected
            self.body = body
        }
    }

    static let childKey = "TESSEL_TEST_CHILD_CASE"

    static var cases: [Case] {
        let opencl = Device.all.contains(.opencl(0))
        var cases: [Case] = [
            Case("nine axes", expect: "a tensor has at most 8 axes; shape [1, 1, 1, 1, 1, 1, 1, 1, 1] has 9") {
                _ = Tensor.zeros([Int](repeating: 1, count: 9), device: .cpu)
            },
            Case("nine axes by reshape", expect: "a tensor has at most 8 axes") {
                _ = Tensor.zeros([2], device: .cpu).reshape([Int](repeating: 1, count: 8) + [2])
            },
            Case("unpacking float words", expect: "unpackingBytes: expects int32 words with at least one axis, got float32 [2]") {
                _ = Tensor([1, 2] as [Float], device: .cpu).unpackingBytes()
            },
            Case("unpacking more bytes than the words hold", expect: "unpackingBytes: rows of 2 words hold 5...8 bytes, not 9 (shape [3, 2])") {
                _ = Tensor.zeros([3, 2], dtype: .int32, device: .cpu).unpackingBytes(count: 9)
            },
            Case("broadcast", expect: "add: shapes [2] and [3] cannot be broadcast together") {
                _ = Tensor([1, 2] as [Float], device: .cpu) + Tensor([1, 2, 3] as [Float], device: .cpu)
            },
            Case("matmul", expect: "matmul: shapes [2, 3] and [2, 3] do not chain (3 vs 2)") {
                _ = Tensor.zeros([2, 3], device: .cpu).matmul(Tensor.zeros([2, 3], device: .cpu))
            },
            Case("gather cpu", expect: "gather: index 7 is out of range for axis 0 of size 3") {
                _ = Tensor([1, 2, 3] as [Float], device: .cpu).gather(axis: 0, index: Tensor([0, 7] as [Int32], device: .cpu)).toArray()
            },
            Case("indexSelect negative", expect: "gather: index -1 is out of range for axis 1 of size 2") {
                _ = Tensor.zeros([2, 2], device: .cpu).indexSelect(axis: 1, indices: Tensor([1, -1] as [Int32], device: .cpu)).toArray()
            },
            Case("scatterAdd cpu", expect: "scatterAdd: index 4 is out of range for axis 0 of size 4") {
                _ = Tensor.zeros([4], device: .cpu).scatterAdd(axis: 0, index: Tensor([4] as [Int32], device: .cpu),
                                                              source: Tensor([1] as [Float], device: .cpu)).toArray()
            },
            Case("neg bool", expect: "neg: a bool tensor cannot be negated") {
                _ = -Tensor([true, false], device: .cpu)
            },
            Case("where int condition", expect: "where: the condition must be a bool tensor, got int32 [2]") {
                _ = Tensor.where(Tensor([1, 0] as [Int32], device: .cpu), Tensor.zeros([2], device: .cpu), Tensor.ones([2], device: .cpu))
            },
            Case("full NaN int32", expect: "full: nan does not fit in int32") {
                _ = Tensor.full([2], .nan, dtype: .int32, device: .cpu)
            },
            Case("full too large int32", expect: "full: 3000000000.0 does not fit in int32") {
                _ = Tensor.full([2], 3e9, dtype: .int32, device: .cpu)
            },
            Case("negative shape", expect: "full: negative axis size in shape [-1, 2]") {
                _ = Tensor.zeros([-1, 2], device: .cpu)
            },
            Case("overflowing shape", expect: "has more elements than an Int can count") {
                _ = Tensor.zeros([1 << 40, 1 << 40], device: .cpu)
            },
            Case("cat 0-d", expect: "cat: zero-dimensional tensors cannot be joined; use stack") {
                _ = Tensor.cat([Tensor(Float(1), device: .cpu), Tensor(Float(2), device: .cpu)])
            },
            Case("int32 /= ", expect: "div: a float32 result cannot be written into a int32 tensor") {
                var x = Tensor([4, 6] as [Int32], device: .cpu)
                x /= 2
            },
            Case("write into an expanded view", expect: "add: the destination Layout(shape: [3, 2], strides: [0, 1], offset: 0) has elements that share memory") {
                var x = Tensor.zeros([2], device: .cpu).expand([3, 2])
                x += 1
            },
            Case("argmax past int32", expect: "argmax: 3000000000 reduced elements of shape [3000000000] exceed the int32 index it returns") {
                _ = Tensor.zeros([1], device: .cpu).expand([3_000_000_000]).argmax()
            },
            Case("missing device", expect: "no device 'opencl:9' on this machine (found: cpu") {
                _ = Tensor([1] as [Float], device: .opencl(9))
            },
            Case("bogus TESSEL_DEVICE", environment: ["TESSEL_DEVICE": "bogus"],
                 expect: "TESSEL_DEVICE=bogus: invalid device name 'bogus': use cpu, opencl or opencl:N; the devices here are cpu") {
                _ = Tensor([1] as [Float])
            },
            Case("missing TESSEL_DEVICE", environment: ["TESSEL_DEVICE": "opencl:9"],
                 expect: "TESSEL_DEVICE=opencl:9: no device 'opencl:9' on this machine") {
                _ = Tensor([1] as [Float])
            },
        ]
        cases += [
            Case("second backward", expect: "backward: sum's saved tensors were already freed by an earlier backward; pass retainGraph: true") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                let loss = (x * x).sum()
                loss.backward()
                loss.backward()
            },
            Case("saved tensor written in place",
                 expect: "backward: exp saved a tensor of shape [2] at version 0, and it is now at version 1") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                var y = x * 1
                let z = y.exp()
                Tensor.withoutGrad { y += 1 }
                z.sum().backward()
            },
            Case("saved output written in place", expect: "backward: exp saved a tensor of shape [2] at version 0, and it is now at version 1") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                let y = x.exp()
                Tensor.withoutGrad {
                    var written = y
                    written += 1
                }
                y.sum().backward()
            },
            Case("in-place write into a view of a recorded tensor", expect: "add: an in-place write into a view (shape [1], made by slice) of a tensor that requires grad is not supported while recording") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                var window = x.relu()[0..<1]
                window += 1
            },
            Case("in-place write into a view of a plain tensor while recording", expect: "assign: an in-place write into a view (shape [1]) of a larger tensor while recording gradients is not supported") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                var plain = Tensor.zeros([2], device: .cpu)
                plain[0..<1] = x[0..<1]
            },
            Case("in-place write into a whole view of a leaf", expect: "add: an in-place write into a view (shape [2, 1], made by reshape) of a tensor that requires grad") {
                let w = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                var view = w.reshape([2, 1])
                view += 1
            },
            Case("a copy of a variable written in place while recording", expect: "mul: an input of shape [2] was written in place (while recording) through another variable sharing its storage") {
                let w = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                let y = w * 1
                var z = y
                z *= 3
                _ = y * y
            },
            Case("windowArgmax padding with dilation", expect: "windowArgmax: padding (height: 1, width: 1) with dilation (height: 3, width: 3) can leave a window without a pixel") {
                _ = Tensor.zeros([1, 1, 2, 2], device: .cpu).windowArgmax(WindowGeometry(kernel: (2, 2), padding: (1, 1), dilation: (3, 3)))
            },
            Case("in-place write into a leaf", expect: "add: an in-place write into a leaf that requires grad (shape [2]) is not differentiable") {
                var w = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                w += 1
            },
            Case("in-place write into a tensor a recorded op saved", expect: "backward: mul saved a tensor of shape [2] at version 0, and it is now at version 1") {
                let x = Tensor([1, 2] as [Float], device: .cpu).requiringGrad()
                var y = x * 2
                let z = y * y
                y += 1
                z.sum().backward()
            },
        ]
        cases.append(Case("write into a shared constant", expect: "add: this tensor is a shared constant and cannot be written") {
            final class Keep: OpObserver {
                let inputs = Mutex<[Tensor]>([])
                func record(_ record: OpRecord) { inputs.withLock { $0 += record.inputs } }
            }
            let keep = Keep()
            // The second use of a value caches it as a shared constant.
            _ = Tensor([1] as [Float], device: .cpu) * 5
            _ = Tensor.observingOps(keep) { Tensor([1] as [Float], device: .cpu) * 5 }
            var constant = keep.inputs.withLock { $0 }.first { $0.rank == 0 }!
            constant += 1
        })
        if opencl {
            cases += [
                Case("mixed devices after out of memory", environment: ["TESSEL_CPU_MEMORY_LIMIT": "1000000"],
                     expect: "add: operands are on cpu and opencl:0") {
                    let failed = Tensor.ones([1 << 20], device: .cpu) // 4 MiB past the 1 MB cap
                    _ = failed + Tensor.ones([1 << 20], device: .opencl(0))
                },
                Case("gather opencl", expect: "gather: index 7 is out of range for axis 0 of size 3") {
                    _ = Tensor([1, 2, 3] as [Float], device: .opencl(0))
                        .gather(axis: 0, index: Tensor([0, 7] as [Int32], device: .opencl(0))).toArray()
                },
                Case("scatterAdd opencl", expect: "scatterAdd: index -2 is out of range for axis 1 of size 3") {
                    _ = Tensor.zeros([2, 3], device: .opencl(0))
                        .scatterAdd(axis: 1, index: Tensor([[0], [-2]] as [[Int32]], device: .opencl(0)),
                                    source: Tensor([[1], [1]] as [[Float]], device: .opencl(0))).toArray()
                },
            ]
        }
        return cases
    }

    func testProgrammerErrorsStopWithTheirMessage() throws {
        if let name = ProcessInfo.processInfo.environment[Self.childKey] {
            // The child: run the case; reaching the end means it did not stop.
            let child = try XCTUnwrap(Self.cases.first { $0.name == name }, "no case \(name)")
            child.body()
            FileHandle.standardError.write(Data("case \(name) did not stop\n".utf8))
            exit(3)
        }
        for testCase in Self.cases {
            let (status, stderr) = try runChild(testCase)
            XCTAssertNotEqual(status, 0, "\(testCase.name): the child did not stop")
            XCTAssertTrue(stderr.contains(testCase.expected),
                          "\(testCase.name): expected \"\(testCase.expected)\" in the child's output, got:\n\(stderr.prefix(2000))")
        }
    }

    /// Creating a backend does not measure the clock (it keeps every core busy for a moment);
    /// reading `info` does.
    func testCreatingTheCPUBackendDoesNotMeasureTheClock() throws {
        if ProcessInfo.processInfo.environment[Self.childKey] == "clock" {
            let backend = CPUBackend()
            _ = (Tensor([1, 2] as [Float], device: .cpu) + 1).toArray()
            FileHandle.standardError.write(Data("measured before info: \(HostCPU.clockWasMeasured.load(ordering: .relaxed))\n".utf8))
            _ = backend.info
            FileHandle.standardError.write(Data("measured after info: \(HostCPU.clockWasMeasured.load(ordering: .relaxed))\n".utf8))
            exit(0)
        }
        let (status, stderr) = try runChild(Case("clock", expect: "") {})
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stderr.contains("measured before info: false"), stderr)
        XCTAssertTrue(stderr.contains("measured after info: true"), stderr)
    }

    /// Runs this test binary on the one test method that handles `testCase`, with its environment.
    private func runChild(_ testCase: Case) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        let method = testCase.name == "clock" ? "testCreatingTheCPUBackendDoesNotMeasureTheClock"
                                              : "testProgrammerErrorsStopWithTheirMessage"
        process.arguments = ["TesselTests.ProgrammerErrorTests/\(method)"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childKey] = testCase.name
        environment.removeValue(forKey: "TESSEL_DEVICE")
        for (key, value) in testCase.environment { environment[key] = value }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
