import Foundation
import ArgumentParser
import Tessel

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List every device Tessel can run on, and which one is the default."
    )

    func run() throws {
        let defaultDevice = try Device.configuredDefault()
        for device in Device.all {
            let marker = device == defaultDevice ? "  (default)" : ""
            do {
                let info = try device.backend().info
                print("\(device)\(marker)")
                print("  backend          \(info.backend)")
                print("  name             \(info.name)")
                print("  vendor           \(info.vendor)")
                print("  compute units    \(info.computeUnits)")
                print("  memory           \(formatBytes(info.memoryBytes))")
                print("  max work-group   \(info.maxWorkGroupSize)")
                if let peak = info.peakFlops {
                    print(String(format: "  peak float32     %.1f GFLOP/s (%@)", peak.flops / 1e9, peak.derivation))
                }
                for (key, value) in info.details {
                    print("  \(key.padding(toLength: 16, withPad: " ", startingAt: 0)) \(value)")
                }
            } catch {
                print("\(device)  unusable: \(error)")
            }
        }
    }
}

/// `1.5 GiB`-style sizes.
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
