import Foundation
import Synchronization
import Tessel

/// Where a case's time goes, op by op (`tessel bench --profile`). An observer at the entry point
/// notes the clock as each op finishes and charges the time since the previous op (or the run's
/// start), less the observer's own bookkeeping, to it, so the host work before an op (autograd
/// bookkeeping, a backward rule's own Swift) is charged to that op. Watching ops takes them off the path without bookkeeping, so
/// the profile's total is above the timed run's, and the time after a run's last op is charged
/// to nothing. On OpenCL the figures are host time (runs are not synchronised one by one), with
/// the device's waits charged to the op that read a result.
final class OpProfile: OpObserver {
    struct Entry {
        var nanoseconds: UInt64 = 0
        var calls = 0
    }

    private struct State {
        var last: UInt64 = 0
        var entries: [String: Entry] = [:]
        var runs = 0
    }

    private let state = Mutex(State())

    /// Runs `run` `count` times under the observer, after one warm-up run outside it.
    static func measure(_ run: () -> Void, on device: Device, runs count: Int) throws -> OpProfile {
        let profile = OpProfile()
        run()
        try device.backend().synchronize()
        Tensor.observingOps(profile) {
            for _ in 0..<count {
                profile.state.withLock { $0.last = DispatchTime.now().uptimeNanoseconds; $0.runs += 1 }
                run()
            }
        }
        try device.backend().synchronize()
        return profile
    }

    func record(_ record: OpRecord) {
        let now = DispatchTime.now().uptimeNanoseconds
        let label = "\(record.op.name)\(record.inPlace ? " (in place)" : "") "
            + record.inputs.map { "\($0.shape)" }.joined(separator: " ")
        state.withLock { state in
            state.entries[label, default: Entry()].nanoseconds += now &- state.last
            state.entries[label, default: Entry()].calls += 1
            // The clock restarts after this bookkeeping, so the next op is not charged for it.
            state.last = DispatchTime.now().uptimeNanoseconds
        }
    }

    /// The ops by time per run, largest first, as far as `share` of the total (at least 5 rows).
    func table(share: Double = 0.95) -> String {
        state.withLock { state in
            let runs = Double(Swift.max(state.runs, 1))
            let sorted = state.entries.sorted { $0.value.nanoseconds > $1.value.nanoseconds }
            let total = Double(sorted.reduce(0) { $0 + $1.value.nanoseconds })
            var lines = [String(format: "    %d ops per run, %.1f us per run observed", Int(Double(sorted.reduce(0) { $0 + $1.value.calls }) / runs),
                                total / runs / 1e3),
                         "        us/run  calls  share  op (input shapes)"]
            var shown = 0.0
            for (label, entry) in sorted where shown < share * total || lines.count < 7 {
                let nanoseconds = Double(entry.nanoseconds)
                shown += nanoseconds
                lines.append(String(format: "    %10.2f %6.0f %5.1f%%  %@", nanoseconds / runs / 1e3, Double(entry.calls) / runs,
                                    nanoseconds / Swift.max(total, 1) * 100, label))
            }
            return lines.joined(separator: "\n")
        }
    }
}
