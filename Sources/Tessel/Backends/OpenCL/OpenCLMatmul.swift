// Batched GEMM of the OpenCL backend (kernel in `Kernels/gemm.cl`, tiling in `CLGemmTile`).

extension OpenCLBackend {
    public func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        precondition(a.dtype == .float32 && b.dtype == .float32, "matmul: needs float32, got \(a.dtype) and \(b.dtype)")
        precondition(a.layout.rank == 3 && b.layout.rank == 3 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1],
                     "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let (batch, m, k, n) = (a.shape[0], a.shape[1], a.shape[2], b.shape[2])
        let left = checked(a.buffer, a.layout, "matmul"), right = checked(b.buffer, b.layout, "matmul")
        let target = checked(output, Layout(contiguous: [batch, m, n]), "matmul")
        guard batch * m * n > 0 else { return }
        precondition(batch * m * n < Int(Int32.max), "matmul: output of \(batch * m * n) elements exceeds 32-bit indices")
        // A size-1 axis may carry any stride; it is never stepped, so pass 0 and keep it in 32 bits.
        func strides(_ layout: Layout) -> [CLArg] {
            zip(layout.shape, layout.strides).map { .int($0 == 1 ? 0 : $1) }
        }
        let tile = gemmTile
        switch tile.variant {
        case .localMemory:
            let local = tile.localSize
            let global = [(n + tile.columns - 1) / tile.columns * local[0], (m + tile.rows - 1) / tile.rows * local[1], batch]
            launcher.launch(kernel("gemm_f32"), global: global, local: local,
                            [.int(m), .int(n), .int(k), .buffer(left), .int(a.layout.offset)] + strides(a.layout)
                                + [.buffer(right), .int(b.layout.offset)] + strides(b.layout) + [.buffer(target)])
        case .registerBlocked:
            // Pack B into column panels (see gemm.cl), once when every batch shares it (stride 0).
            let panels = (n + tile.columns - 1) / tile.columns
            let packedBatches = batch == 1 || b.layout.strides[0] == 0 ? 1 : batch
            let panelElements = panels * k * tile.columns
            precondition(packedBatches * panelElements < Int(Int32.max),
                         "matmul: packed B of \(packedBatches * panelElements) elements exceeds 32-bit indices")
            let packed = allocator.allocate(count: Swift.max(packedBatches * panelElements, 1))
            let one = [1, 1, 1]
            launcher.launch(kernel("gemm_pack_b"), global: [k, panels, packedBatches], local: one,
                            [.int(n), .int(k), .buffer(right), .int(b.layout.offset)] + strides(b.layout) + [.buffer(packed)])
            launcher.launch(kernel("gemm_f32"), global: [(m + tile.rows - 1) / tile.rows, panels, batch], local: one,
                            [.int(m), .int(n), .int(k), .buffer(left), .int(a.layout.offset)] + strides(a.layout)
                                + [.buffer(packed), .int(packedBatches == 1 ? 0 : panelElements), .buffer(target)])
        }
    }
}
