import Synchronization

/// A 64-byte aligned block of host memory (SIMD loads never straddle cache lines), owned by
/// the pool that made it, which frees it (`free()`) when it evicts it.
///
/// A plain value, not an object: handing a block out and taking it back touches no reference
/// count, and a small op does both once.
struct HostMemory: @unchecked Sendable {
    // Unchecked: the pointer never changes; what is stored through it is ordered by the tensor
    // layer (an op's output is not visible to anyone until the op returns).
    let pointer: UnsafeMutableRawPointer

    init(bytes: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
    func free() { pointer.deallocate() }
}

/// Host memory for the CPU backend, from its pool; returned there when released.
final class CPUBuffer: BackendBuffer, Sendable {
    let memory: HostMemory
    let count: Int
    let bytes: Int
    /// Not counted: a small op makes and frees a buffer, and counting its pool cost atomic
    /// reference-count updates at both ends (an `unowned(unsafe)` reference is still retained
    /// around each call). Pools are never freed (`keepForever`: one per CPU backend, which a
    /// process makes once), so the reference cannot dangle.
    private let pool: Unmanaged<BufferPool<HostMemory>>

    private static let keptPools = Mutex<[BufferPool<HostMemory>]>([])

    /// Keeps `pool` alive for the rest of the process, so that buffers may hold it uncounted.
    static func keepForever(_ pool: BufferPool<HostMemory>) -> Unmanaged<BufferPool<HostMemory>> {
        keptPools.withLock { $0.append(pool) }
        return Unmanaged.passUnretained(pool)
    }

    init(count: Int, pool: Unmanaged<BufferPool<HostMemory>>) {
        (memory, bytes) = pool._withUnsafeGuaranteedRef { $0.take(bytes: count * 4) }
        self.count = count
        self.pool = pool
    }

    /// Nil when the pool has no room (see `BufferPool.tryTake`).
    init?(tryCount count: Int, pool: Unmanaged<BufferPool<HostMemory>>) {
        guard let taken = pool._withUnsafeGuaranteedRef({ $0.tryTake(bytes: count * 4) }) else { return nil }
        (memory, bytes) = taken
        self.count = count
        self.pool = pool
    }

    deinit {
        let (memory, bytes) = (memory, bytes)
        pool._withUnsafeGuaranteedRef { $0.recycle(memory, bytes: bytes) }
    }

    var pointer: UnsafeMutableRawPointer { memory.pointer }
    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> { memory.pointer.assumingMemoryBound(to: T.self) }
}

extension StridedView {
    /// Base pointer of the view's buffer (not offset): kernels add `layout.offset` themselves.
    func cpuBase<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        unsafeDowncast(buffer, to: CPUBuffer.self).typed(T.self)
    }
}

extension DenseRun {
    /// The element at the run's offset (the buffer must be a `CPUBuffer`).
    func cpuStart<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        object._withUnsafeGuaranteedRef { unsafeDowncast($0, to: CPUBuffer.self).typed(T.self) } + offset
    }
}

extension BackendBuffer {
    func cpuPointer<T>(_: T.Type) -> UnsafeMutablePointer<T> { unsafeDowncast(self, to: CPUBuffer.self).typed(T.self) }
}
