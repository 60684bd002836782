import Foundation

/// Scratch memory owned by the calling thread and kept across calls: GEMM's packed panels
/// (up to ~660 KB a thread) and softmax's copy of a strided row were allocated and freed on
/// every call, and blocks as large as GEMM's come from mmap, so each call paid for fresh pages.
///
/// Only the thread that got a buffer uses it, and only until its call returns (a nested call on
/// the same thread asks for a different slot), so no lock is needed.
final class ThreadScratch {
    /// What each buffer is for; one buffer per slot and thread.
    enum Slot: Int, CaseIterable {
        case gemmPackedA, gemmPackedB, gemmEdgeTile, gemmPartialC, softmaxRow
    }

    private var buffers: [UnsafeMutablePointer<Float>?] = Array(repeating: nil, count: Slot.allCases.count)
    private var capacities = [Int](repeating: 0, count: Slot.allCases.count)

    deinit { for buffer in buffers { buffer?.deallocate() } }

    /// The calling thread's buffer for `slot`, holding at least `count` floats (contents undefined).
    static func floats(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
        current.floats(slot, count: count)
    }

    private func floats(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
        let index = slot.rawValue
        if capacities[index] < count || buffers[index] == nil {
            buffers[index]?.deallocate()
            let capacity = Swift.max(count, 1)
            buffers[index] = .allocate(capacity: capacity)
            capacities[index] = capacity
        }
        return buffers[index]!
    }

    /// The calling thread's scratch, created on its first use and freed when the thread exits.
    private static var current: ThreadScratch {
        if let existing = pthread_getspecific(key) { return Unmanaged<ThreadScratch>.fromOpaque(existing).takeUnretainedValue() }
        let made = ThreadScratch()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<ThreadScratch>.fromOpaque(pointer).release() }
        }
        return key
    }()
}
