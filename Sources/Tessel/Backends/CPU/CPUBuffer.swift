/// Host memory for the CPU backend, 64-byte aligned so SIMD loads never straddle cache lines.
final class CPUBuffer: BackendBuffer, @unchecked Sendable {
    // Unchecked: the pointer is written only by kernels that the tensor layer orders (an op's
    // output is not visible to anyone until the op returns), so there are no racing accesses.
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * 4, alignment: 64)
    }

    deinit { pointer.deallocate() }

    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> { pointer.assumingMemoryBound(to: T.self) }
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
