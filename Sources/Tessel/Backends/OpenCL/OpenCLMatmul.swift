// Batched GEMM of the OpenCL backend (kernel in `Kernels/gemm.cl`, tiling in `CLGemmTile`).

extension OpenCLBackend {
    public func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer, accumulate: Bool) {
        check(a.dtype == .float32 && b.dtype == .float32, "matmul: needs float32, got \(a.dtype) and \(b.dtype)")
        check(a.layout.rank == 3 && b.layout.rank == 3 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[1],
                     "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let (batch, m, k, n) = (a.shape[0], a.shape[1], a.shape[2], b.shape[2])
        let left = checked(a.buffer, a.layout, "matmul"), right = checked(b.buffer, b.layout, "matmul")
        let target = checked(output, Layout(contiguous: [batch, m, n]), "matmul")
        guard batch * m * n > 0, k > 0 || !accumulate else { return }
        check(batch * m * n < Int(Int32.max), "matmul: output of \(batch * m * n) elements exceeds 32-bit indices")
        // A size-1 axis may carry any stride; it is never stepped, so pass 0 and keep it in 32 bits.
        func strides(_ layout: Layout) -> [CLArg] {
            zip(layout.shape, layout.strides).map { .int($0 == 1 ? 0 : $1) }
        }
        let tile = gemmTile
        switch tile.variant {
        case .localMemory:
            let local = tile.localSize
            let aBatch = a.shape[0] == 1 ? 0 : a.layout.strides[0], bBatch = b.shape[0] == 1 ? 0 : b.layout.strides[0]
            // The batch is the third NDRange axis, which GPUs bound (65535 on NVIDIA): slices of it.
            for start in stride(from: 0, to: batch, by: gemmBatchLimit) {
                let count = Swift.min(gemmBatchLimit, batch - start)
                let global = [(n + tile.columns - 1) / tile.columns * local[0], (m + tile.rows - 1) / tile.rows * local[1], count]
                launcher.launch(kernel("gemm_f32"), global: global, local: local,
                                [.int(m), .int(n), .int(k), .buffer(left), .int(a.layout.offset + start * aBatch)]
                                    + strides(a.layout) + [.buffer(right), .int(b.layout.offset + start * bBatch)]
                                    + strides(b.layout) + [.buffer(target), .int(start * m * n), .int(accumulate ? 1 : 0)])
            }
        case .registerBlocked:
            let one = [1, 1, 1]
            // Copies an operand into blocks of `width` along `length` (see gemm.cl), once when every
            // batch shares it (stride 0); returns the copy, its batch stride and its block count.
            func pack(_ name: String, _ view: StridedView, _ source: CLBuffer, length: Int, width: Int) -> (CLBuffer, Int, Int) {
                let blocks = (length + width - 1) / width
                let batches = batch == 1 || view.layout.strides[0] == 0 ? 1 : batch
                let perBatch = blocks * k * width
                check(batches * perBatch < Int(Int32.max),
                             "matmul: packed operand of \(batches * perBatch) elements exceeds 32-bit indices")
                let packed = allocator.allocate(count: Swift.max(batches * perBatch, 1))
                launcher.launch(kernel(name), global: [k, blocks, batches], local: one,
                                [.int(length), .int(k), .buffer(source), .int(view.layout.offset)] + strides(view.layout)
                                    + [.buffer(packed)])
                return (packed, batches == 1 ? 0 : perBatch, blocks)
            }
            let rowsPerItem = tile.perItemRows
            // B is always packed into column panels: one contiguous stream per work-item.
            let (packedB, packedBBatch, panels) = pack("gemm_pack_b", b, right, length: n, width: tile.columns)
            // A is read in place when its rows run along K; a strided K axis (transposed A) is
            // packed into blocks of rows first. Either way the kernel takes (block, row, column) steps.
            let aArgs: [CLArg]
            let aStrides = zip(a.shape, a.layout.strides).map { $0 == 1 ? 0 : $1 }
            if aStrides[2] == 1 || k == 1 {
                aArgs = [.buffer(left), .int(a.layout.offset), .int(aStrides[0]),
                         // With one block the block step is never taken; 0 keeps it in 32 bits.
                         .int(m <= rowsPerItem ? 0 : rowsPerItem * aStrides[1]),
                         .int(aStrides[1]), .int(aStrides[2])]
            } else {
                let (packedA, packedABatch, _) = pack("gemm_pack_a", a, left, length: m, width: rowsPerItem)
                aArgs = [.buffer(packedA), .int(0), .int(packedABatch), .int(k * rowsPerItem), .int(1), .int(rowsPerItem)]
            }
            // K in equal slices of at most gemmCPUKBlock (see gemm.cl), past 2 x gemmCPUKBlock:
            // each launch adds its slice to C. k = 0 still launches once, to write the zeros.
            let slices = k > 2 * gemmCPUKBlock ? (k + gemmCPUKBlock - 1) / gemmCPUKBlock : 1
            let kBlock = Swift.max((k + slices - 1) / slices, 1)
            for kBegin in stride(from: 0, to: Swift.max(k, 1), by: kBlock) {
                let kEnd = Swift.min(k, kBegin + kBlock)
                launcher.launch(kernel("gemm_f32"), global: [(m + rowsPerItem - 1) / rowsPerItem, panels, batch], local: one,
                                [.int(m), .int(n), .int(k), .int(kBegin), .int(kEnd), .int(kBegin > 0 || accumulate ? 1 : 0)] + aArgs
                                    + [.buffer(packedB), .int(packedBBatch), .buffer(target)])
            }
        }
    }
}

/// Deepest K slice the CPU-driver GEMM runs at a time: 1024 x 4096 floats of A (16 MB) stay in
/// a server L3 while every column panel passes over them (512-deep slices were slower at 2048:
/// each slice reads and writes C once more).
private let gemmCPUKBlock = 1024
