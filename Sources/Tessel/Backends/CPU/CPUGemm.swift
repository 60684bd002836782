// Packed, register-blocked SGEMM (the BLIS/GotoBLAS structure):
// - B is packed once per (K block, N block) into panels of `nr` columns, A per (M block, K block)
//   into panels of `mr` rows, both zero-padded, so the micro-kernel reads memory sequentially and
//   never checks bounds; packing reads through any strides, so transposed operands cost nothing;
// - the micro-kernel keeps an mr x nr tile of C in 2*mr SIMD registers across the K block.

/// Rows of A per micro-kernel tile.
private let mr = 6
/// Columns of B per micro-kernel tile: two SIMD vectors.
private let nr = 2 * simdWidth
/// K block: a packed A panel (mr x kc) and B panel (kc x nr) stay in L1/L2.
private let kc = 256
/// M block: mc x kc floats of A (~72 KB) stay in L2.
private let mc = 72
/// N block: kc x nc floats of B (~2 MB) stay in L3.
private let nc = 2048

extension CPUBackend {
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        precondition(b.shape[0] == batch && b.shape[1] == k, "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let c = output.cpuPointer(Float.self)
        let pa = a.cpuBase(Float.self), pb = b.cpuBase(Float.self)
        for item in 0..<batch {
            let aMatrix = StridedMatrix(base: pa + a.layout.offset + item * a.layout.strides[0],
                                        rowStride: a.layout.strides[1], columnStride: a.layout.strides[2])
            let bMatrix = StridedMatrix(base: pb + b.layout.offset + item * b.layout.strides[0],
                                        rowStride: b.layout.strides[1], columnStride: b.layout.strides[2])
            sgemm(m: m, n: n, k: k, a: aMatrix, b: bMatrix, c: c + item * m * n)
        }
    }
}

struct StridedMatrix {
    let base: UnsafeMutablePointer<Float>
    let rowStride: Int
    let columnStride: Int
    @inline(__always) subscript(row: Int, column: Int) -> Float { base[row * rowStride + column * columnStride] }
}

/// C (m x n, row-major, dense) = A (m x k) * B (k x n).
func sgemm(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>) {
    guard m > 0 && n > 0 else { return }
    if k == 0 {
        c.update(repeating: 0, count: m * n)
        return
    }
    let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * roundUp(Swift.min(n, nc), nr))
    defer { packedB.deallocate() }
    let cShared = UncheckedSendable(c), bShared = UncheckedSendable(packedB)
    for jc in stride(from: 0, to: n, by: nc) {
        let ncBlock = Swift.min(nc, n - jc)
        for pc in stride(from: 0, to: k, by: kc) {
            let kcBlock = Swift.min(kc, k - pc)
            packB(b, rows: pc..<(pc + kcBlock), columns: jc..<(jc + ncBlock), into: packedB)
            let accumulate = pc > 0
            // Work items: (M block, group of N panels), so skinny products still use every core.
            let mBlocks = (m + mc - 1) / mc
            let panels = (ncBlock + nr - 1) / nr
            let panelGroups = Swift.max(1, Swift.min(panels, (cpuCoreCount * 2 + mBlocks - 1) / mBlocks))
            let panelsPerGroup = (panels + panelGroups - 1) / panelGroups
            let flops = 2 * m * ncBlock * kcBlock
            let items = mBlocks * panelGroups
            parallelFor(items, grain: flops < 1 << 21 ? items : 1) { range in
                let packedA = UnsafeMutablePointer<Float>.allocate(capacity: mc * kc)
                defer { packedA.deallocate() }
                for item in range {
                    let ic = (item / panelGroups) * mc, group = item % panelGroups
                    let mcBlock = Swift.min(mc, m - ic)
                    packA(a, rows: ic..<(ic + mcBlock), columns: pc..<(pc + kcBlock), into: packedA)
                    let firstPanel = group * panelsPerGroup, lastPanel = Swift.min(panels, firstPanel + panelsPerGroup)
                    for panel in firstPanel..<lastPanel {
                        let jr = panel * nr
                        let columns = Swift.min(nr, ncBlock - jr)
                        for ir in stride(from: 0, to: mcBlock, by: mr) {
                            let rows = Swift.min(mr, mcBlock - ir)
                            microKernel(kc: kcBlock, a: packedA + ir * kcBlock, b: bShared.value + panel * nr * kcBlock,
                                        c: cShared.value + (ic + ir) * n + jc + jr, ldc: n,
                                        rows: rows, columns: columns, accumulate: accumulate)
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
private func packB(_ b: StridedMatrix, rows: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>) {
    let kcBlock = rows.count
    let panels = (columns.count + nr - 1) / nr
    let shared = UncheckedSendable(packed)
    parallelFor(panels, grain: Swift.max(1, 16_384 / Swift.max(kcBlock * nr, 1))) { range in
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
                         ldc: Int, rows: Int, columns: Int, accumulate: Bool) {
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
        pa += mr
        pb += 2 * w
    }
    if rows == mr && columns == nr {
        @inline(__always) func store(_ r: Int, _ left: V, _ right: V) {
            let row = c + r * ldc
            if accumulate {
                storeVector(loadVector(row) + left, row)
                storeVector(loadVector(row + w) + right, row + w)
            } else {
                storeVector(left, row)
                storeVector(right, row + w)
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
        store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
        return
    }
    // Edge tile: spill to a stack tile, then copy the part inside C.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { tile in
        let t = tile.baseAddress!
        for (r, pair) in [(c00, c01), (c10, c11), (c20, c21), (c30, c31), (c40, c41), (c50, c51)].enumerated() {
            storeVector(pair.0, t + r * nr)
            storeVector(pair.1, t + r * nr + w)
        }
        for r in 0..<rows {
            for j in 0..<columns {
                c[r * ldc + j] = accumulate ? c[r * ldc + j] + t[r * nr + j] : t[r * nr + j]
            }
        }
    }
}
