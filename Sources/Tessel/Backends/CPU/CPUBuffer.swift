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
    let pool: BufferPool<HostMemory>

    init(count: Int, pool: BufferPool<HostMemory>) {
        (memory, bytes) = pool.take(bytes: count * 4)
        self.count = count
        self.pool = pool
    }

    /// Nil when the pool has no room (see `BufferPool.tryTake`).
    init?(tryCount count: Int, pool: BufferPool<HostMemory>) {
        guard let taken = pool.tryTake(bytes: count * 4) else { return nil }
        (memory, bytes) = taken
        self.count = count
        self.pool = pool
    }

    deinit { pool.recycle(memory, bytes: bytes) }

    var pointer: UnsafeMutableRawPointer { memory.pointer }
    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> { memory.pointer.assumingMemoryBound(to: T.self) }
}

extension StridedView {
    /// Base pointer of the view's buffer (not offset): kernels add `layout.offset` themselves.
    func cpuBase<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        unsafeDowncast(buffer, to: CPUBuffer.self).typed(T.self)
    }
}

extension BackendBuffer {
    func cpuPointer<T>(_: T.Type) -> UnsafeMutablePointer<T> { unsafeDowncast(self, to: CPUBuffer.self).typed(T.self) }
}
