import ArgumentParser

@main
struct TesselCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessel",
        abstract: "Tessel: tensors on OpenCL devices and SIMD CPUs.",
        subcommands: [DevicesCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, BaselineCommand.self, BenchCommand.self, DemoCommand.self]
    )
}
