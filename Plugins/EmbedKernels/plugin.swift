import Foundation
import PackagePlugin

/// Embeds every `Kernels/*.cl` file into the target as a Swift string table (`EmbeddedKernels`).
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernelsFolder = context.package.directoryURL.appendingPathComponent("Kernels")
        let kernelFiles = try FileManager.default.contentsOfDirectory(atPath: kernelsFolder.path)
            .filter { $0.hasSuffix(".cl") }
            .sorted()
            .map { kernelsFolder.appendingPathComponent($0) }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(kernelFiles.count) OpenCL kernel files",
                executable: try context.tool(named: "KernelEmbedder").url,
                arguments: [output.path] + kernelFiles.map(\.path),
                inputFiles: kernelFiles,
                outputFiles: [output]
            )
        ]
    }
}
