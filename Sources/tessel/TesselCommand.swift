import ArgumentParser

@main
struct TesselCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessel",
        abstract: "Tessel: tensors on OpenCL devices and SIMD CPUs.",
        subcommands: [DevicesCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, BaselineCommand.self, ServeCommand.self, BenchCommand.self, DemoCommand.self]
    )
}
