import ArgumentParser
import Foundation
import Tessel

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a small computation on every device and check it against the CPU."
    )

    @Option(help: "Matrix size of the demo product.")
    var size = 256

    func run() throws {
        Tensor.manualSeed(7)
        let a = Tensor.randn([size, size], device: .cpu), b = Tensor.randn([size, size], device: .cpu)
        let reference = softmaxOfProduct(a, b).toArray()
        for device in Device.all {
            let start = Date()
            let result = softmaxOfProduct(a.to(device), b.to(device))
            let values = result.toArray()
            let seconds = Date().timeIntervalSince(start)
            let error = zip(values, reference).map { abs($0 - $1) }.max() ?? 0
            let name = device.description.padding(toLength: 10, withPad: " ", startingAt: 0)
            print(name + String(format: " softmax(A @ B.T / sqrt(n)).max(1) for n=%d: %.1f ms, max |diff| vs cpu %.2e",
                                size, seconds * 1000, error))
            print("           first values: \(result[0..<3])")
        }
    }

    private func softmaxOfProduct(_ a: Tensor, _ b: Tensor) -> Tensor {
        (a.matmul(b.T) / Float(size).squareRoot()).softmax(axis: -1).max(axis: 1)
    }
}
