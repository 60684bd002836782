// Packed, register-blocked SGEMM (the BLIS/GotoBLAS structure):
// - B is packed once per (K block, N block) into panels of `nr` columns, A per (M block, K block)
//   into panels of `mr` rows, both zero-padded, so the micro-kernel reads memory sequentially and
//   never checks bounds; packing reads through any strides, so transposed operands cost nothing;
// - the micro-kernel keeps an mr x nr tile of C in 2*mr SIMD registers across the K block.

/// Rows of A per micro-kernel tile: as many as the vector registers hold accumulators for.
#if TESSEL_SIMD16
private let mr = 12
#else
private let mr = 6
#endif
/// Columns of B per micro-kernel tile: two SIMD vectors.
private let nr = 2 * simdWidth
/// K block: a packed A panel (mr x kc) and B panel (kc x nr) stay in L1/L2.
private let kc = 256
/// M block: mc x kc floats of A (~144 KB) stay in L2.
private let mc = 144
/// N block: kc x nc floats of B (512 KB) stay in L2 while A micro-panels pass over them.
private let nc = 512

extension CPUBackend {
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        precondition(b.shape[0] == batch && b.shape[1] == k, "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let c = UncheckedSendable(output.cpuPointer(Float.self))
        let pa = a.cpuBase(Float.self), pb = b.cpuBase(Float.self)
        func operands(_ item: Int) -> (StridedMatrix, StridedMatrix) {
            (StridedMatrix(base: pa + a.layout.offset + item * a.layout.strides[0],
                           rowStride: a.layout.strides[1], columnStride: a.layout.strides[2]),
             StridedMatrix(base: pb + b.layout.offset + item * b.layout.strides[0],
                           rowStride: b.layout.strides[1], columnStride: b.layout.strides[2]))
        }
        if batch >= cpuCoreCount && m * n * k < gemmSplitThreshold {
            // Many small products: one per core at a time beats splitting each one.
            parallelFor(batch, grain: 1) { items in
                for item in items {
                    let (left, right) = operands(item)
                    sgemmBlocked(m: m, n: n, k: k, a: left, b: right, c: c.value + item * m * n, ldc: n, multithreaded: false)
                }
            }
            return
        }
        for item in 0..<batch {
            let (left, right) = operands(item)
            sgemm(m: m, n: n, k: k, a: left, b: right, c: c.value + item * m * n)
        }
    }
}

/// Below this many multiply-adds, a product is split into one slab per core, each computed
/// alone: one parallel dispatch instead of two per K block (~10 us each, as long as a whole
/// 128x784x128 product takes on one core).
private let gemmSplitThreshold = 1 << 27

struct StridedMatrix {
    let base: UnsafeMutablePointer<Float>
    let rowStride: Int
    let columnStride: Int
    @inline(__always) subscript(row: Int, column: Int) -> Float { base[row * rowStride + column * columnStride] }
}

/// C (m x n, row-major, dense) = A (m x k) * B (k x n).
func sgemm(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>) {
    let macs = m * n * k
    guard macs < gemmSplitThreshold, macs > 1 << 16, cpuCoreCount > 1 else {
        sgemmBlocked(m: m, n: n, k: k, a: a, b: b, c: c, ldc: n, multithreaded: macs >= 1 << 16)
        return
    }
    // Slabs of rows (or of columns when C is wide), aligned to the micro-tile.
    let splitRows = m >= n
    let extent = splitRows ? m : n, unit = splitRows ? mr : nr
    let slab = roundUp((extent + cpuCoreCount - 1) / cpuCoreCount, unit)
    let slabs = (extent + slab - 1) / slab
    let output = UncheckedSendable(c)
    parallelFor(slabs, grain: 1) { range in
        for index in range {
            let start = index * slab, size = Swift.min(slab, extent - start)
            if splitRows {
                let rows = StridedMatrix(base: a.base + start * a.rowStride, rowStride: a.rowStride, columnStride: a.columnStride)
                sgemmBlocked(m: size, n: n, k: k, a: rows, b: b, c: output.value + start * n, ldc: n, multithreaded: false)
            } else {
                let columns = StridedMatrix(base: b.base + start * b.columnStride, rowStride: b.rowStride,
                                            columnStride: b.columnStride)
                sgemmBlocked(m: m, n: size, k: k, a: a, b: columns, c: output.value + start, ldc: n, multithreaded: false)
            }
        }
    }
}

/// The blocked algorithm on C with row stride `ldc`, on all cores or on the calling thread.
private func sgemmBlocked(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>,
                          ldc: Int, multithreaded: Bool) {
    guard m > 0 && n > 0 else { return }
    if k == 0 {
        for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
        return
    }
    let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * roundUp(Swift.min(n, nc), nr))
    defer { packedB.deallocate() }
    let cShared = UncheckedSendable(c), bShared = UncheckedSendable(packedB)
    for jc in stride(from: 0, to: n, by: nc) {
        let ncBlock = Swift.min(nc, n - jc)
        for pc in stride(from: 0, to: k, by: kc) {
            let kcBlock = Swift.min(kc, k - pc)
            packB(b, rows: pc..<(pc + kcBlock), columns: jc..<(jc + ncBlock), into: packedB, multithreaded: multithreaded)
            let accumulate = pc > 0
            // Work items: (M block, group of N panels), so skinny products still use every core.
            let mBlocks = (m + mc - 1) / mc
            let panels = (ncBlock + nr - 1) / nr
            let panelGroups = multithreaded ? Swift.max(1, Swift.min(panels, (cpuCoreCount * 2 + mBlocks - 1) / mBlocks)) : 1
            let panelsPerGroup = (panels + panelGroups - 1) / panelGroups
            let items = mBlocks * panelGroups
            parallelFor(items, grain: multithreaded ? 1 : items) { range in
                let packedA = UnsafeMutablePointer<Float>.allocate(capacity: mc * kc)
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr)
                defer {
                    packedA.deallocate()
                    tile.deallocate()
                }
                for item in range {
                    let ic = (item / panelGroups) * mc, group = item % panelGroups
                    let mcBlock = Swift.min(mc, m - ic)
                    packA(a, rows: ic..<(ic + mcBlock), columns: pc..<(pc + kcBlock), into: packedA)
                    let firstPanel = group * panelsPerGroup, lastPanel = Swift.min(panels, firstPanel + panelsPerGroup)
                    // One A micro-panel (mr x kc, 12 KB) stays in L1 while the B panels of the
                    // block stream past it from L2.
                    for ir in stride(from: 0, to: mcBlock, by: mr) {
                        let rows = Swift.min(mr, mcBlock - ir)
                        for panel in firstPanel..<lastPanel {
                            let jr = panel * nr
                            microKernel(kc: kcBlock, a: packedA + ir * kcBlock, b: bShared.value + panel * nr * kcBlock,
                                        c: cShared.value + (ic + ir) * ldc + jc + jr, ldc: ldc,
                                        rows: rows, columns: Swift.min(nr, ncBlock - jr), accumulate: accumulate,
                                        tile: tile)
                        }
                    }
                }
            }
        }
    }
}

@inline(__always) private func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

/// Packs A[rows, columns] as consecutive mr-row panels, each stored k-major: panel[p * mr + r].
private func packA(_ a: StridedMatrix, rows: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>) {
    let kcBlock = columns.count
    var destination = packed
    for panelStart in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
        let panelRows = Swift.min(mr, rows.upperBound - panelStart)
        for p in 0..<kcBlock {
            let column = columns.lowerBound + p
            for r in 0..<mr { destination[p * mr + r] = r < panelRows ? a[panelStart + r, column] : 0 }
        }
        destination += mr * kcBlock
    }
}

/// Packs B[rows, columns] as consecutive nr-column panels, each stored k-major: panel[p * nr + j].
private func packB(_ b: StridedMatrix, rows: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>,
                   multithreaded: Bool) {
    let kcBlock = rows.count
    let panels = (columns.count + nr - 1) / nr
    let shared = UncheckedSendable(packed)
    parallelFor(panels, grain: multithreaded ? Swift.max(1, 16_384 / Swift.max(kcBlock * nr, 1)) : panels) { range in
        for panel in range {
            let destination = shared.value + panel * nr * kcBlock
            let first = columns.lowerBound + panel * nr
            let width = Swift.min(nr, columns.upperBound - first)
            for p in 0..<kcBlock {
                let row = rows.lowerBound + p
                let target = destination + p * nr
                if b.columnStride == 1 && width == nr {
                    target.update(from: b.base + row * b.rowStride + first, count: nr)
                } else {
                    for j in 0..<nr { target[j] = j < width ? b[row, first + j] : 0 }
                }
            }
        }
    }
}

/// C[0..<rows, 0..<columns] (+)= packed A panel (mr x kc) * packed B panel (kc x nr).
@inline(__always)
private func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                         ldc: Int, rows: Int, columns: Int, accumulate: Bool, tile: UnsafeMutablePointer<Float>) {
    do {
        #if TESSEL_SIMD16
        accumulateTile12(kc: kc, a: a, b: b, into: tile)
        #else
        accumulateTile6(kc: kc, a: a, b: b, into: tile)
        #endif
        // The accumulators go through a scratch tile (1.5 KB, in L1): one store path serves
        // full and edge tiles, and costs little next to the kc * mr * nr FMAs before it.
        if rows == mr && columns == nr {
            for r in 0..<mr {
                let row = c + r * ldc, source = tile + r * nr
                for j in stride(from: 0, to: nr, by: simdWidth) {
                    let value = loadVector(source + j)
                    storeVector(accumulate ? loadVector(row + j) + value : value, row + j)
                }
            }
            return
        }
        for r in 0..<rows {
            for j in 0..<columns {
                c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * nr + j] : tile[r * nr + j]
            }
        }
    }
}

/// The AVX2 kernel: 6 rows x 2 vectors = 12 accumulators of the 16 ymm registers.
@inline(__always)
private func accumulateTile6(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, into tile: UnsafeMutablePointer<Float>) {
    typealias V = Vector<Float>
    let w = simdWidth
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb), b1 = loadVector(pb + w)
        var s = V(repeating: pa[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = V(repeating: pa[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = V(repeating: pa[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = V(repeating: pa[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = V(repeating: pa[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = V(repeating: pa[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        pa += 6
        pb += 2 * w
    }
    // Explicit stores: an array of the accumulators would be a heap allocation per tile.
    @inline(__always) func store(_ r: Int, _ left: V, _ right: V) {
        storeVector(left, tile + r * nr)
        storeVector(right, tile + r * nr + w)
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
    store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
}

/// The AVX-512 kernel: 12 rows x 2 vectors = 24 accumulators of the 32 zmm registers, twice
/// the FMAs per B load of the 6-row kernel.
@inline(__always)
private func accumulateTile12(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, into tile: UnsafeMutablePointer<Float>) {
    typealias V = Vector<Float>
    let w = simdWidth
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
    var c90 = V(), c91 = V(), ca0 = V(), ca1 = V(), cb0 = V(), cb1 = V()
    var pa = a, pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb), b1 = loadVector(pb + w)
        var s = V(repeating: pa[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = V(repeating: pa[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = V(repeating: pa[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = V(repeating: pa[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = V(repeating: pa[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = V(repeating: pa[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        s = V(repeating: pa[6]); c60.addProduct(s, b0); c61.addProduct(s, b1)
        s = V(repeating: pa[7]); c70.addProduct(s, b0); c71.addProduct(s, b1)
        s = V(repeating: pa[8]); c80.addProduct(s, b0); c81.addProduct(s, b1)
        s = V(repeating: pa[9]); c90.addProduct(s, b0); c91.addProduct(s, b1)
        s = V(repeating: pa[10]); ca0.addProduct(s, b0); ca1.addProduct(s, b1)
        s = V(repeating: pa[11]); cb0.addProduct(s, b0); cb1.addProduct(s, b1)
        pa += 12
        pb += 2 * w
    }
    @inline(__always) func store(_ r: Int, _ left: V, _ right: V) {
        storeVector(left, tile + r * nr)
        storeVector(right, tile + r * nr + w)
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
    store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
    store(8, c80, c81); store(9, c90, c91); store(10, ca0, ca1); store(11, cb0, cb1)
}
