import Synchronization
import CTesselCPU
import Dispatch
import Foundation

/// Facts about the machine's own CPU, for the devices that run on it (the CPU backend, and
/// CPU OpenCL drivers such as pocl).
enum HostCPU {
    /// A clock rate and where it came from.
    struct Clock: Sendable {
        var gigahertz: Double
        /// "measured", "nominal" (the model name's "@ 2.80GHz"), "cpuinfo" or "assumed".
        var source: String
    }

    /// `model name` from /proc/cpuinfo, or a generic name elsewhere.
    static let modelName: String = cpuInfoField("model name") ?? "CPU"
    static let vendor: String = cpuInfoField("vendor_id") ?? "unknown"

    /// Physical cores: FMA units belong to cores, so SMT siblings add threads but no peak. The
    /// logical CPU count where /proc/cpuinfo does not say.
    static let physicalCoreCount: Int = {
        let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        return text.flatMap(physicalCores(cpuinfo:)) ?? ProcessInfo.processInfo.activeProcessorCount
    }()

    /// Distinct (physical id, core id) pairs in a /proc/cpuinfo text; nil when it lists none.
    static func physicalCores(cpuinfo text: String) -> Int? {
        var cores = Set<String>(), physical = ""
        for line in text.split(separator: "\n") {
            let value = line.split(separator: ":", maxSplits: 1).dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.hasPrefix("physical id") { physical = value }
            if line.hasPrefix("core id") { cores.insert(physical + "/" + value) }
        }
        return cores.isEmpty ? nil : cores.count
    }

    /// The clock the cores run at under load. /proc/cpuinfo gives the nominal clock (in a VM,
    /// only that), and cores boost well above it: these EPYC VMs list 2.6 GHz and run at 4.1-4.3,
    /// so a peak from the listed clock came out below measured GEMM speed. Measured where the
    /// timing loop exists (x86-64) and the figure is plausible; else the listed clock.
    static let clock: Clock = {
        clockWasMeasured.store(true, ordering: .relaxed)
        let listed: Clock? = {
            if let model = cpuInfoField("model name"), let at = model.range(of: "@ "),
               let ghz = Double(model[at.upperBound...].prefix { $0 != "G" }) {
                return Clock(gigahertz: ghz, source: "nominal")
            }
            return cpuInfoField("cpu MHz").flatMap(Double.init).map { Clock(gigahertz: $0 / 1000, source: "cpuinfo") }
        }()
        return choose(measured: measureGigahertz(), listed: listed)
    }()

    /// True once `clock` has been measured in this process (tests check that creating a
    /// backend does not measure it).
    static let clockWasMeasured = Atomic<Bool>(false)

    /// The measured clock when it is plausible (0.5-8 GHz: a timing loop under emulation or
    /// heavy preemption gives nonsense), else the listed one, else an assumed 2 GHz.
    static func choose(measured: Double?, listed: Clock?) -> Clock {
        if let measured, (0.5...8).contains(measured) { return Clock(gigahertz: measured, source: "measured") }
        return listed ?? Clock(gigahertz: 2.0, source: "assumed")
    }

    /// Times a chain of dependent integer additions (one per cycle on every x86-64 core) on as
    /// many threads as there are logical CPUs, started together so that the cores are loaded as
    /// a parallel kernel loads them (nothing pins them, so this is an aim, not a guarantee): per
    /// thread the best of a few ~0.25 ms runs after a warm-up that lets the core leave its idle
    /// clock, then the median over threads, so one preempted thread does not set the figure.
    /// Costs a few milliseconds, once.
    private static func measureGigahertz() -> Double? {
        let iterations = 125_000
        guard tessel_dependent_adds(1) > 0 else { return nil }
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        let slots = UncheckedSendable(rates)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            _ = tessel_dependent_adds(iterations * 4)
            var best = 0.0
            for _ in 0..<8 {
                let start = DispatchTime.now().uptimeNanoseconds
                let additions = tessel_dependent_adds(iterations)
                let elapsed = DispatchTime.now().uptimeNanoseconds - start
                best = Swift.max(best, Double(additions) / Double(Swift.max(elapsed, 1)))
            }
            slots.value[thread] = best
        }
        let sorted = rates.sorted()
        return sorted[(sorted.count - 1) / 2]
    }

    private static func cpuInfoField(_ key: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
