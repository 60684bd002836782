import ArgumentParser

@main
struct TesselCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessel",
        abstract: "Tessel: tensors on OpenCL devices and SIMD CPUs.",
        subcommands: [DevicesCommand.self, DemoCommand.self, BenchCommand.self]
    )
}
