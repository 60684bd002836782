import COpenCL
import Synchronization

/// Where the gather and scatter kernels report an out-of-range index (see `Kernels/gather.cl`):
/// four ints (flag, index, axis size, tag) in a device buffer. Kernels cannot stop the program,
/// so the backend reads the report at its next synchronisation, and only when an indexing kernel
/// ran since the last one: other work pays nothing.
final class CLIndexFaults: Sendable {
    let buffer: CLBuffer
    private let pending = Atomic<Bool>(false)

    init(allocator: CLAllocator) {
        buffer = allocator.allocate(count: 4)
    }

    /// The kernel arguments after `axisStride`, `axisSize`: the tag naming op and axis, the buffer.
    func arguments(op: String, axis: Int) -> [CLArg] {
        [.int(axis * 2 + (op == "scatterAdd" ? 1 : 0)), .buffer(buffer)]
    }

    /// Marks a report to read, once an indexing kernel has been enqueued (not before: a read on
    /// another thread in between would clear the mark and miss the kernel's report).
    func markLaunched() { pending.store(true, ordering: .releasing) }

    /// Stops with the CPU backend's message when a kernel reported a bad index. Call after the
    /// queue has drained (after a blocking read or clFinish).
    func stopOnReport(_ read: (CLBuffer, UnsafeMutableRawBufferPointer) -> Void, clear: (CLBuffer) -> Void) {
        guard pending.exchange(false, ordering: .acquiringAndReleasing) else { return }
        var report = [Int32](repeating: 0, count: 4)
        report.withUnsafeMutableBytes { read(buffer, $0) }
        guard report[0] != 0 else { return }
        clear(buffer)
        let tag = Int(report[3])
        indexOutOfRange(tag & 1 == 1 ? "scatterAdd" : "gather", Int(report[1]), axis: tag >> 1, size: Int(report[2]))
    }
}
