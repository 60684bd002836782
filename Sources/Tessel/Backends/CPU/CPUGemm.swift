import CTesselCPU

// Packed, register-blocked SGEMM (the BLIS/GotoBLAS structure):
// - B is packed per (K block, N block) into panels of `nr` columns, A per (M block, K block)
//   into panels of `mr` rows, both zero-padded, so the micro-kernel reads memory sequentially and
//   never checks bounds; packing reads through any strides, so transposed operands cost nothing;
//   a row-major A is mostly read in place (see `readsAInPlace`), and so is a row-major B under
//   few rows of A (`readsBInPlace`: the kernels step through B's rows by `bStep`);
// - the micro-kernel keeps an mr x nr tile of C in 2*mr SIMD registers across the K block (a
//   last panel of at most one vector's width gets an mr x simdWidth kernel, mr registers);
// - on several cores, C is cut into one slab per core (rows, or columns when C is wide), each
//   computed alone: no barriers, and every core packs only what it reads.

/// Rows of A per micro-kernel tile: as many as the vector registers hold accumulators for.
#if TESSEL_SIMD16
private let mr = 12
#else
private let mr = 6
#endif
/// Columns of B per micro-kernel tile: two SIMD vectors.
private let nr = 2 * simdWidth

/// Width of the packed B panel that holds `columns` (at most nr) columns: one vector when they
/// fit in one (the 10 outputs of a classifier), so a narrow product is not padded to 2 vectors.
@inline(__always) private func panelWidth(_ columns: Int) -> Int { columns <= simdWidth ? simdWidth : nr }
/// K block: a packed A micro-panel (mr x kc) stays in L1 while B panels stream past it.
private let kc = 256
/// M block: mc x kc floats of packed A (~144 KB).
private let mc = 144
/// N block: kc x nc floats of packed B (512 KB) stay in L2 while A micro-panels pass over them.
private let nc = 512
/// Rows of C up to which a row-major B is read in place rather than packed (see `sgemmOnOneCore`).
private let bInPlaceRows = 128

extension CPUBackend {
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer, accumulate: Bool) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        check(b.shape[0] == batch && b.shape[1] == k, "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let c = UncheckedSendable(output.cpuPointer(Float.self))
        let pa = a.cpuBase(Float.self), pb = b.cpuBase(Float.self)
        func operands(_ item: Int) -> (StridedMatrix, StridedMatrix) {
            (StridedMatrix(base: pa + a.layout.offset + item * a.layout.strides[0],
                           rowStride: a.layout.strides[1], columnStride: a.layout.strides[2]),
             StridedMatrix(base: pb + b.layout.offset + item * b.layout.strides[0],
                           rowStride: b.layout.strides[1], columnStride: b.layout.strides[2]))
        }
        if batch >= cpuCoreCount && m * n * k < 1 << 24 {
            // Many small products: one per core at a time beats splitting each one.
            parallelFor(batch, grain: 1) { items in
                for item in items {
                    let (left, right) = operands(item)
                    sgemmOnOneCore(m: m, n: n, k: k, a: left, b: right, c: c.value + item * m * n, ldc: n,
                                   accumulateIntoC: accumulate)
                }
            }
            return
        }
        for item in 0..<batch {
            let (left, right) = operands(item)
            sgemm(m: m, n: n, k: k, a: left, b: right, c: c.value + item * m * n, accumulate: accumulate)
        }
    }
}

struct StridedMatrix {
    let base: UnsafeMutablePointer<Float>
    let rowStride: Int
    let columnStride: Int
    @inline(__always) subscript(row: Int, column: Int) -> Float { base[row &* rowStride &+ column &* columnStride] }
}

/// C (m x n, row-major, dense) = A (m x k) * B (k x n), or C += A * B with `accumulate`, on all cores.
func sgemm(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    // Below ~64K multiply-adds waking a second core costs more than it saves.
    guard cpuCoreCount > 1, m * n * k > 1 << 16 else {
        sgemmOnOneCore(m: m, n: n, k: k, a: a, b: b, c: c, ldc: n, accumulateIntoC: accumulate)
        return
    }
    if k >= 4096 && m * n <= 1 << 16 && k >= 8 * Swift.max(m, n) {
        sgemmSplittingK(m: m, n: n, k: k, a: a, b: b, c: c, accumulate: accumulate)
        return
    }
    // One slab of whole micro-tiles per core, as even as the tile grid allows.
    let splitRows = m >= n
    let extent = splitRows ? m : n, unit = splitRows ? mr : nr
    let tiles = (extent + unit - 1) / unit
    let slabs = Swift.min(cpuCoreCount, tiles)
    let output = UncheckedSendable(c)
    parallelFor(slabs, grain: 1) { range in
        for index in range {
            let start = Swift.min(extent, index * tiles / slabs * unit)
            let end = Swift.min(extent, (index + 1) * tiles / slabs * unit)
            guard start < end else { continue }
            if splitRows {
                let rows = StridedMatrix(base: a.base + start * a.rowStride, rowStride: a.rowStride, columnStride: a.columnStride)
                sgemmOnOneCore(m: end - start, n: n, k: k, a: rows, b: b, c: output.value + start * n, ldc: n,
                               accumulateIntoC: accumulate)
            } else {
                let columns = StridedMatrix(base: b.base + start * b.columnStride, rowStride: b.rowStride,
                                            columnStride: b.columnStride)
                sgemmOnOneCore(m: m, n: end - start, k: k, a: a, b: columns, c: output.value + start, ldc: n,
                               accumulateIntoC: accumulate)
            }
        }
    }
}

/// A small C over a long K (a convolution's weight gradient: [9, 86528] x [86528, 32]): each core
/// multiplies its own slice of K (the first into C, the others into the calling thread's
/// scratch), then the partial products are added into C. Cutting C instead would leave cores
/// idle or have each pack the whole of the long operand.
private func sgemmSplittingK(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>,
                             accumulate: Bool) {
    let parts = Swift.min(cpuCoreCount, k / 1024)
    let partials = UncheckedSendable(ThreadScratch.floats(.gemmPartialC, count: (parts - 1) * m * n))
    let output = UncheckedSendable(c)
    parallelFor(parts, grain: 1) { range in
        for part in range {
            let start = part * k / parts, end = (part + 1) * k / parts
            let left = StridedMatrix(base: a.base + start * a.columnStride, rowStride: a.rowStride, columnStride: a.columnStride)
            let right = StridedMatrix(base: b.base + start * b.rowStride, rowStride: b.rowStride, columnStride: b.columnStride)
            sgemmOnOneCore(m: m, n: n, k: end - start, a: left, b: right,
                           c: part == 0 ? output.value : partials.value + (part - 1) * m * n, ldc: n,
                           accumulateIntoC: part == 0 && accumulate)
        }
    }
    for part in 1..<parts {
        let source = partials.value + (part - 1) * m * n
        for i in 0..<(m * n) { c[i] += source[i] }
    }
}

/// The blocked algorithm on the calling thread, on C with row stride `ldc`; with
/// `accumulateIntoC` the product is added to what C holds (addmm's bias).
private func sgemmOnOneCore(m: Int, n: Int, k: Int, a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>,
                            ldc: Int, accumulateIntoC: Bool) {
    guard m > 0 && n > 0 else { return }
    if k == 0 {
        if accumulateIntoC { return }
        for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
        return
    }
    // x @ W.T with a few columns past the last whole panel (a Linear layer of 100 outputs: three
    // panels of 32 and 4 columns): those columns are dot products along K, which both operands
    // hold contiguously, instead of a one-vector panel that would use 4 of its 16 lanes.
    let spare = n % nr
    if dotProductsForSpareColumns && spare > 0 && spare <= 2 * dotColumns && n > spare && k >= 4 * simdWidth
        && a.columnStride == 1 && b.rowStride == 1 {
        sgemmOnOneCore(m: m, n: n - spare, k: k, a: a, b: b, c: c, ldc: ldc, accumulateIntoC: accumulateIntoC)
        dotProductColumns(m: m, columns: (n - spare)..<n, k: k, a: a, b: b, c: c, ldc: ldc, accumulateIntoC: accumulateIntoC)
        return
    }
    // Equal K blocks: 784 = 4 x 196, not 3 x 256 + 16 (a 16-deep block is all load and store).
    let kBlocks = (k + kc - 1) / kc
    let kcMax = (k + kBlocks - 1) / kBlocks
    // Packing A (a scalar transpose) costs about one pass of the micro-kernel over it. A
    // row-major A is read in place instead: its mr rows are mr sequential streams, which the
    // hardware prefetcher follows (measured on Zen 5: n = 10 products 1.5x faster, 128x784x128
    // 1.2x, 2048^3 1.06x). Rows 4 KB apart (a power-of-two width) all fall into the same L1
    // sets, more of them than an 8-way L1 (older Xeons) has ways; they are still packed unless
    // B has few panels to reuse them over.
    let rowsShareL1Sets = a.rowStride % 1024 == 0
    let readsAInPlace = a.columnStride == 1 && (!rowsShareL1Sets || n <= 4 * nr)
    // A row-major B is read in place too when few row panels of A pass over it (m, this core's
    // rows of C, is 100 in an MLP's weight gradient g.T @ x: packing x was a pass over it for
    // nine panels of A). Rows 4 KB apart are packed, for the same L1 sets as A's.
    let readsBInPlace = b.columnStride == 1 && m <= bInPlaceRows && b.rowStride % 1024 != 0
    // Read in place, B needs packing only for a ragged last panel: room for one panel.
    let packedB = ThreadScratch.floats(.gemmPackedB, count: kcMax * (readsBInPlace ? nr : roundUp(Swift.min(n, nc), nr)))
    // Read in place, A needs packing only for a ragged last panel: room for one panel.
    let packedA = ThreadScratch.floats(.gemmPackedA, count: kcMax * (readsAInPlace ? mr : roundUp(Swift.min(m, mc), mr)))
    let edgeTile = ThreadScratch.floats(.gemmEdgeTile, count: mr * nr)
    for jc in stride(from: 0, to: n, by: nc) {
        let ncBlock = Swift.min(nc, n - jc)
        for pc in stride(from: 0, to: k, by: kcMax) {
            let kcBlock = Swift.min(kcMax, k - pc)
            if !readsBInPlace {
                packB(b, rows: pc..<(pc + kcBlock), columns: jc..<(jc + ncBlock), into: packedB)
            } else if ncBlock % nr != 0 && ncBlock % nr != panelWidth(ncBlock % nr) {
                // A ragged last panel read in place would run past B's last column: pack it.
                let last = jc + ncBlock - ncBlock % nr
                packB(b, rows: pc..<(pc + kcBlock), columns: last..<(jc + ncBlock), into: packedB)
            }
            let accumulate = pc > 0 || accumulateIntoC
            for ic in stride(from: 0, to: m, by: mc) {
                let mcBlock = Swift.min(mc, m - ic)
                if !readsAInPlace {
                    packA(a, rows: ic..<(ic + mcBlock), columns: pc..<(pc + kcBlock), into: packedA)
                }
                // One A micro-panel (mr x kc, 12 KB) stays in L1 while the B panels of the
                // block stream past it from L2.
                for ir in stride(from: 0, to: mcBlock, by: mr) {
                    let rows = Swift.min(mr, mcBlock - ir)
                    for jr in stride(from: 0, to: ncBlock, by: nr) {
                        let columns = Swift.min(nr, ncBlock - jr)
                        let inPlace = readsBInPlace && columns == panelWidth(columns)
                        // In place: B's own rows; packed: this panel's, or the one ragged panel.
                        let panel = inPlace ? UnsafePointer(b.base + pc * b.rowStride + jc + jr)
                            : UnsafePointer(packedB + (readsBInPlace ? 0 : jr * kcBlock))
                        let tile = Tile(rows: rows, columns: columns, kc: kcBlock, b: panel,
                                        bStep: inPlace ? b.rowStride : panelWidth(columns),
                                        c: c + (ic + ir) * ldc + jc + jr, ldc: ldc, accumulate: accumulate)
                        if readsAInPlace && rows == mr {
                            tile.run(a: a.base + (ic + ir) * a.rowStride + pc, aStep: 1, aRowStride: a.rowStride,
                                     edgeTile: edgeTile)
                        } else {
                            // A ragged panel read in place would run past A's last row: pack it.
                            if readsAInPlace && jr == 0 {
                                packA(a, rows: (ic + ir)..<(ic + ir + rows), columns: pc..<(pc + kcBlock), into: packedA)
                            }
                            tile.run(a: packedA + (readsAInPlace ? 0 : ir * kcBlock), aStep: mr, aRowStride: 1,
                                     edgeTile: edgeTile)
                        }
                    }
                }
            }
        }
    }
}

/// Rows and columns of C per block of `dotProductColumns`: 16 accumulators.
private let dotRows = 4, dotColumns = 4
/// AVX-512 only: its 32 registers hold a block's 16 accumulators and 5 operands; AVX2's 16
/// would spill, and its 8-lane panels waste fewer lanes on the spare columns to begin with.
#if TESSEL_SIMD16
private let dotProductsForSpareColumns = true
#else
private let dotProductsForSpareColumns = false
#endif

/// C[0..<m, columns] (+)= A * B for a row-major A and a B whose columns are contiguous along K
/// (B = W.T), as dot products: each 4 x 4 block of C keeps 16 vector accumulators along K, then
/// sums each one's lanes. A ragged block repeats its last row or column and keeps only the
/// real ones.
private func dotProductColumns(m: Int, columns: Range<Int>, k: Int, a: StridedMatrix, b: StridedMatrix,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulateIntoC: Bool) {
    typealias V = Vector<Float>
    let w = simdWidth, vectorEnd = k - k % w
    for firstColumn in stride(from: columns.lowerBound, to: columns.upperBound, by: dotColumns) {
        let columnCount = Swift.min(dotColumns, columns.upperBound - firstColumn)
        func column(_ j: Int) -> UnsafePointer<Float> {
            UnsafePointer(b.base + (firstColumn + Swift.min(j, columnCount - 1)) &* b.columnStride)
        }
        let b0 = column(0), b1 = column(1), b2 = column(2), b3 = column(3)
        for firstRow in stride(from: 0, to: m, by: dotRows) {
            let rowCount = Swift.min(dotRows, m - firstRow)
            func row(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(a.base + (firstRow + Swift.min(i, rowCount - 1)) &* a.rowStride) }
            let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3)
            var s00 = V(), s01 = V(), s02 = V(), s03 = V(), s10 = V(), s11 = V(), s12 = V(), s13 = V()
            var s20 = V(), s21 = V(), s22 = V(), s23 = V(), s30 = V(), s31 = V(), s32 = V(), s33 = V()
            var p = 0
            while p < vectorEnd {
                let x0 = loadVector(a0 + p), x1 = loadVector(a1 + p), x2 = loadVector(a2 + p), x3 = loadVector(a3 + p)
                var y = loadVector(b0 + p)
                s00.addProduct(x0, y); s10.addProduct(x1, y); s20.addProduct(x2, y); s30.addProduct(x3, y)
                y = loadVector(b1 + p)
                s01.addProduct(x0, y); s11.addProduct(x1, y); s21.addProduct(x2, y); s31.addProduct(x3, y)
                y = loadVector(b2 + p)
                s02.addProduct(x0, y); s12.addProduct(x1, y); s22.addProduct(x2, y); s32.addProduct(x3, y)
                y = loadVector(b3 + p)
                s03.addProduct(x0, y); s13.addProduct(x1, y); s23.addProduct(x2, y); s33.addProduct(x3, y)
                p += w
            }
            func store(_ i: Int, _ j: Int, _ sum: V, _ rowA: UnsafePointer<Float>, _ columnB: UnsafePointer<Float>) {
                guard i < rowCount && j < columnCount else { return }
                var total = laneSum(sum)
                for q in vectorEnd..<k { total += rowA[q] * columnB[q] }
                let target = c + (firstRow + i) * ldc + firstColumn + j
                target.pointee = accumulateIntoC ? target.pointee + total : total
            }
            store(0, 0, s00, a0, b0); store(0, 1, s01, a0, b1); store(0, 2, s02, a0, b2); store(0, 3, s03, a0, b3)
            store(1, 0, s10, a1, b0); store(1, 1, s11, a1, b1); store(1, 2, s12, a1, b2); store(1, 3, s13, a1, b3)
            store(2, 0, s20, a2, b0); store(2, 1, s21, a2, b1); store(2, 2, s22, a2, b2); store(2, 3, s23, a2, b3)
            store(3, 0, s30, a3, b0); store(3, 1, s31, a3, b1); store(3, 2, s32, a3, b2); store(3, 3, s33, a3, b3)
        }
    }
}

/// One micro-tile of C: `rows` x `columns` at `c`, from a B panel whose row p starts at
/// b + p * bStep (packed: bStep is the panel's width; read in place: B's row stride).
private struct Tile {
    let rows: Int, columns: Int, kc: Int
    let b: UnsafePointer<Float>
    let bStep: Int
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let accumulate: Bool

    /// Runs the micro-kernel with A's element (r, p) at a[p * aStep + r * aRowStride].
    @inline(__always)
    func run(a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, edgeTile: UnsafeMutablePointer<Float>) {
        let width = panelWidth(columns)
        if rows == mr && columns == width {
            microKernel(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, width: width, c: c, ldc: ldc,
                        accumulate: accumulate)
            return
        }
        if rows < mr && mr % edgeRows == 0 {
            // A ragged row panel (m = 100 leaves 4 rows of a 12-row tile) runs a 4-row kernel
            // per 4 rows, not the full kernel over rows of zeros. (Only where the panel's
            // zero padding covers whole groups: the 6-row AVX2 tile keeps the full kernel.)
            for first in stride(from: 0, to: rows, by: edgeRows) {
                let groupRows = Swift.min(edgeRows, rows - first), groupA = a + first * aRowStride
                if groupRows == edgeRows && columns == width {
                    edgeKernel(kc: kc, a: groupA, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, width: width,
                               c: c + first * ldc, ldc: ldc, accumulate: accumulate)
                } else {
                    edgeKernel(kc: kc, a: groupA, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, width: width,
                               c: edgeTile, ldc: nr, accumulate: false)
                    copyEdge(rows: groupRows, into: c + first * ldc)
                }
            }
            return
        }
        // Edge tiles go through a full-size scratch tile, so the kernel never needs bounds checks.
        microKernel(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, width: width, c: edgeTile, ldc: nr,
                    accumulate: false)
        copyEdge(rows: rows, into: c)

        func copyEdge(rows: Int, into c: UnsafeMutablePointer<Float>) {
            for r in 0..<rows {
                let target = c + r * ldc, source = edgeTile + r * nr
                for j in 0..<columns { target[j] = accumulate ? target[j] + source[j] : source[j] }
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
        let source = a.base + (panelStart &* a.rowStride &+ columns.lowerBound &* a.columnStride)
        if panelRows < mr { destination.update(repeating: 0, count: mr * kcBlock) }
        if a.columnStride == 1 && panelRows == mr {
            // Row-major A: one element of each of the mr rows per step; the rows' cache lines
            // stay in L1 across 16 steps (written so that it compiles to plain loads and stores:
            // a scatter per row is slower).
            for p in 0..<kcBlock {
                let column = source + p, target = destination + p &* mr
                for r in 0..<mr { target[r] = column[r &* a.rowStride] }
            }
        } else if a.rowStride == 1 && panelRows == mr {
            // Transposed A: a panel column is contiguous in memory.
            for p in 0..<kcBlock { (destination + p &* mr).update(from: source + p &* a.columnStride, count: mr) }
        } else {
            for p in 0..<kcBlock {
                for r in 0..<panelRows { destination[p &* mr &+ r] = source[r &* a.rowStride &+ p &* a.columnStride] }
            }
        }
        destination += mr * kcBlock
    }
}

/// Packs B[rows, columns] as consecutive panels of nr columns (the last one `panelWidth` wide),
/// each stored k-major: panel[p * width + j].
private func packB(_ b: StridedMatrix, rows: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>) {
    let kcBlock = rows.count
    var destination = packed
    for first in stride(from: columns.lowerBound, to: columns.upperBound, by: nr) {
        let width = Swift.min(nr, columns.upperBound - first), panel = panelWidth(width)
        let source = b.base + (rows.lowerBound &* b.rowStride &+ first &* b.columnStride)
        if width < panel { destination.update(repeating: 0, count: panel * kcBlock) }
        if b.columnStride == 1 && width == panel {
            // Row-major B: each panel row is a contiguous run of one or two vectors, moved as
            // vectors, not by a `memmove` call per 128-byte row (those calls were 3% of the MLP
            // step's time).
            for p in 0..<kcBlock {
                let from = source + p &* b.rowStride, to = destination + p &* panel
                storeVector(loadVector(from), to)
                if panel == nr { storeVector(loadVector(from + simdWidth), to + simdWidth) }
            }
        } else if b.rowStride == 1 {
            // Transposed B (x @ W.T): square blocks transposed in registers, then the rows
            // past the last whole block one column at a time.
            var first = 0
            if width == panel {
                while first + simdWidth <= kcBlock {
                    for block in stride(from: 0, to: panel, by: simdWidth) {
                        transposeBlock(source + (block &* b.columnStride &+ first), sourceStride: b.columnStride,
                                       into: destination + (first &* panel &+ block), targetStride: panel)
                    }
                    first += simdWidth
                }
            }
            for j in 0..<width {
                let column = source + j &* b.columnStride
                for p in first..<kcBlock { destination[p &* panel &+ j] = column[p] }
            }
        } else {
            for p in 0..<kcBlock {
                for j in 0..<width { destination[p &* panel &+ j] = source[p &* b.rowStride &+ j &* b.columnStride] }
            }
        }
        destination += panel * kcBlock
    }
}

/// C tile (mr x width, row stride ldc) (+)= A panel (mr x kc, packed or in place: element (r, p) at
/// a[p * aStep + r * aRowStride]) * B panel (kc x width, row p at b + p * bStep), where width is nr or, for a
/// narrow last panel, one vector.
@inline(__always)
private func microKernel(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                         width: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    // The C tile is read after kc * mr * width FMAs; asking for it now hides its cache miss.
    for r in 0..<mr {
        let row = c + r &* ldc
        tessel_prefetch(row)
        tessel_prefetch(row + (width - 1))
    }
    #if TESSEL_SIMD16
    if width == nr {
        tile12(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, c: c, ldc: ldc, accumulate: accumulate)
    } else {
        narrowTile12(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, c: c, ldc: ldc, accumulate: accumulate)
    }
    #else
    if width == nr {
        tile6(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, c: c, ldc: ldc, accumulate: accumulate)
    } else {
        narrowTile6(kc: kc, a: a, aStep: aStep, aRowStride: aRowStride, b: b, bStep: bStep, c: c, ldc: ldc, accumulate: accumulate)
    }
    #endif
}

/// Rows of the kernel for a ragged row panel (see `Tile.run`).
private let edgeRows = 4

/// C tile (4 x width) (+)= A (4 x kc) * B panel: as `microKernel`, for the rows of a
/// ragged panel. Eight accumulators (four for a one-vector panel): fewer than the FMA units
/// can keep busy, but a third of the work of the full kernel on a 4-row panel.
@inline(__always)
private func edgeKernel(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                        width: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = Vector<Float>
    let w = simdWidth
    let one = aRowStride, two = 2 &* aRowStride, three = 3 &* aRowStride
    var pa = a, pb = b
    if width == nr {
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        for _ in 0..<kc {
            let b0 = loadVector(pb), b1 = loadVector(pb + w)
            var s = V(repeating: pa[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: pa[one]); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: pa[two]); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: pa[three]); c30.addProduct(s, b0); c31.addProduct(s, b1)
            pa += aStep
            pb += bStep
        }
        storeRow(c00, c01, c, accumulate: accumulate); storeRow(c10, c11, c + ldc, accumulate: accumulate)
        storeRow(c20, c21, c + 2 * ldc, accumulate: accumulate); storeRow(c30, c31, c + 3 * ldc, accumulate: accumulate)
    } else {
        var c0 = V(), c1 = V(), c2 = V(), c3 = V()
        for _ in 0..<kc {
            let b0 = loadVector(pb)
            c0.addProduct(V(repeating: pa[0]), b0); c1.addProduct(V(repeating: pa[one]), b0)
            c2.addProduct(V(repeating: pa[two]), b0); c3.addProduct(V(repeating: pa[three]), b0)
            pa += aStep
            pb += bStep
        }
        storeNarrowRow(c0, c, accumulate: accumulate); storeNarrowRow(c1, c + ldc, accumulate: accumulate)
        storeNarrowRow(c2, c + 2 * ldc, accumulate: accumulate); storeNarrowRow(c3, c + 3 * ldc, accumulate: accumulate)
    }
}

/// Writes one row of accumulators (two vectors) to C.
@inline(__always)
private func storeRow(_ left: Vector<Float>, _ right: Vector<Float>, _ row: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let w = simdWidth
    if accumulate {
        storeVector(loadVector(row) + left, row)
        storeVector(loadVector(row + w) + right, row + w)
    } else {
        storeVector(left, row)
        storeVector(right, row + w)
    }
}

/// A's rows in a tile, read through one pointer per group of three (AVX2) or four (AVX-512)
/// rows so that no load's address waits on another's: through a single pointer the compiler
/// walks the rows as a chain of adds, 11 serial adds per K step, and the one-vector kernel ran
/// no faster than the two-vector one.
private struct RowGroups {
    var first: UnsafePointer<Float>, second: UnsafePointer<Float>
    #if TESSEL_SIMD16
    var third: UnsafePointer<Float>
    #endif
    let one: Int, two: Int, three: Int, step: Int

    @inline(__always) init(_ a: UnsafePointer<Float>, rowStride: Int, step: Int) {
        self = RowGroups.opaque(a, rowStride: rowStride, step: step)
    }

    /// Built out of line, so that the optimiser cannot see that the group pointers differ by a
    /// multiple of the row stride and fold them back into one pointer and a chain.
    @inline(never) private static func opaque(_ a: UnsafePointer<Float>, rowStride: Int, step: Int) -> RowGroups {
        RowGroups(groupsOf: a, rowStride: rowStride, step: step)
    }

    private init(groupsOf a: UnsafePointer<Float>, rowStride: Int, step: Int) {
        let rowsPerGroup = mr / rowGroupCount
        first = a
        second = a + rowsPerGroup &* rowStride
        #if TESSEL_SIMD16
        third = a + 2 &* rowsPerGroup &* rowStride
        #endif
        one = rowStride; two = 2 &* rowStride; three = 3 &* rowStride
        self.step = step
    }

    @inline(__always) mutating func advance() {
        first += step; second += step
        #if TESSEL_SIMD16
        third += step
        #endif
    }
}

#if TESSEL_SIMD16
private let rowGroupCount = 3
#else
private let rowGroupCount = 2
#endif

#if !TESSEL_SIMD16
/// The AVX2 kernel: 6 rows x 2 vectors = 12 accumulators of the 16 ymm registers.
@inline(__always)
private func tile6(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                   c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = Vector<Float>
    let w = simdWidth
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var rows = RowGroups(a, rowStride: aRowStride, step: aStep)
    var pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb), b1 = loadVector(pb + w)
        var s = V(repeating: rows.first[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = V(repeating: rows.first[rows.one]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = V(repeating: rows.first[rows.two]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = V(repeating: rows.second[0]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = V(repeating: rows.second[rows.one]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = V(repeating: rows.second[rows.two]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        rows.advance()
        pb += bStep
    }
    storeRow(c00, c01, c, accumulate: accumulate); storeRow(c10, c11, c + ldc, accumulate: accumulate)
    storeRow(c20, c21, c + 2 * ldc, accumulate: accumulate); storeRow(c30, c31, c + 3 * ldc, accumulate: accumulate)
    storeRow(c40, c41, c + 4 * ldc, accumulate: accumulate); storeRow(c50, c51, c + 5 * ldc, accumulate: accumulate)
}
#endif

#if TESSEL_SIMD16
/// The AVX-512 kernel: 12 rows x 2 vectors = 24 accumulators of the 32 zmm registers, twice
/// the FMAs per B load of the 6-row kernel.
@inline(__always)
private func tile12(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = Vector<Float>
    let w = simdWidth
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
    var c90 = V(), c91 = V(), ca0 = V(), ca1 = V(), cb0 = V(), cb1 = V()
    var rows = RowGroups(a, rowStride: aRowStride, step: aStep)
    var pb = b
    for _ in 0..<kc {
        tessel_prefetch(pb + 8 &* bStep)
        tessel_prefetch(pb + 8 &* bStep + w)
        let b0 = loadVector(pb), b1 = loadVector(pb + w)
        var s = V(repeating: rows.first[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = V(repeating: rows.first[rows.one]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = V(repeating: rows.first[rows.two]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = V(repeating: rows.first[rows.three]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = V(repeating: rows.second[0]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = V(repeating: rows.second[rows.one]); c50.addProduct(s, b0); c51.addProduct(s, b1)
        s = V(repeating: rows.second[rows.two]); c60.addProduct(s, b0); c61.addProduct(s, b1)
        s = V(repeating: rows.second[rows.three]); c70.addProduct(s, b0); c71.addProduct(s, b1)
        s = V(repeating: rows.third[0]); c80.addProduct(s, b0); c81.addProduct(s, b1)
        s = V(repeating: rows.third[rows.one]); c90.addProduct(s, b0); c91.addProduct(s, b1)
        s = V(repeating: rows.third[rows.two]); ca0.addProduct(s, b0); ca1.addProduct(s, b1)
        s = V(repeating: rows.third[rows.three]); cb0.addProduct(s, b0); cb1.addProduct(s, b1)
        rows.advance()
        pb += bStep
    }
    storeRow(c00, c01, c, accumulate: accumulate); storeRow(c10, c11, c + ldc, accumulate: accumulate)
    storeRow(c20, c21, c + 2 * ldc, accumulate: accumulate); storeRow(c30, c31, c + 3 * ldc, accumulate: accumulate)
    storeRow(c40, c41, c + 4 * ldc, accumulate: accumulate); storeRow(c50, c51, c + 5 * ldc, accumulate: accumulate)
    storeRow(c60, c61, c + 6 * ldc, accumulate: accumulate); storeRow(c70, c71, c + 7 * ldc, accumulate: accumulate)
    storeRow(c80, c81, c + 8 * ldc, accumulate: accumulate); storeRow(c90, c91, c + 9 * ldc, accumulate: accumulate)
    storeRow(ca0, ca1, c + 10 * ldc, accumulate: accumulate); storeRow(cb0, cb1, c + 11 * ldc, accumulate: accumulate)
}
#endif

/// Writes one row of a narrow tile (one vector) to C.
@inline(__always)
private func storeNarrowRow(_ value: Vector<Float>, _ row: UnsafeMutablePointer<Float>, accumulate: Bool) {
    storeVector(accumulate ? loadVector(row) + value : value, row)
}

#if !TESSEL_SIMD16
/// The AVX2 kernel for a one-vector panel: 6 rows x 1 vector.
@inline(__always)
private func narrowTile6(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = Vector<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var rows = RowGroups(a, rowStride: aRowStride, step: aStep)
    var pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb)
        c0.addProduct(V(repeating: rows.first[0]), b0); c1.addProduct(V(repeating: rows.first[rows.one]), b0)
        c2.addProduct(V(repeating: rows.first[rows.two]), b0); c3.addProduct(V(repeating: rows.second[0]), b0)
        c4.addProduct(V(repeating: rows.second[rows.one]), b0); c5.addProduct(V(repeating: rows.second[rows.two]), b0)
        rows.advance()
        pb += bStep
    }
    storeNarrowRow(c0, c, accumulate: accumulate); storeNarrowRow(c1, c + ldc, accumulate: accumulate)
    storeNarrowRow(c2, c + 2 * ldc, accumulate: accumulate); storeNarrowRow(c3, c + 3 * ldc, accumulate: accumulate)
    storeNarrowRow(c4, c + 4 * ldc, accumulate: accumulate); storeNarrowRow(c5, c + 5 * ldc, accumulate: accumulate)
}
#endif

#if TESSEL_SIMD16
/// The AVX-512 kernel for a one-vector panel: 12 rows x 1 vector (12 FMAs per B load, enough
/// independent accumulators to cover the FMA latency).
@inline(__always)
private func narrowTile12(kc: Int, a: UnsafePointer<Float>, aStep: Int, aRowStride: Int, b: UnsafePointer<Float>, bStep: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = Vector<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var c6 = V(), c7 = V(), c8 = V(), c9 = V(), ca = V(), cb = V()
    var rows = RowGroups(a, rowStride: aRowStride, step: aStep)
    var pb = b
    for _ in 0..<kc {
        let b0 = loadVector(pb)
        c0.addProduct(V(repeating: rows.first[0]), b0); c1.addProduct(V(repeating: rows.first[rows.one]), b0)
        c2.addProduct(V(repeating: rows.first[rows.two]), b0); c3.addProduct(V(repeating: rows.first[rows.three]), b0)
        c4.addProduct(V(repeating: rows.second[0]), b0); c5.addProduct(V(repeating: rows.second[rows.one]), b0)
        c6.addProduct(V(repeating: rows.second[rows.two]), b0); c7.addProduct(V(repeating: rows.second[rows.three]), b0)
        c8.addProduct(V(repeating: rows.third[0]), b0); c9.addProduct(V(repeating: rows.third[rows.one]), b0)
        ca.addProduct(V(repeating: rows.third[rows.two]), b0); cb.addProduct(V(repeating: rows.third[rows.three]), b0)
        rows.advance()
        pb += bStep
    }
    storeNarrowRow(c0, c, accumulate: accumulate); storeNarrowRow(c1, c + ldc, accumulate: accumulate)
    storeNarrowRow(c2, c + 2 * ldc, accumulate: accumulate); storeNarrowRow(c3, c + 3 * ldc, accumulate: accumulate)
    storeNarrowRow(c4, c + 4 * ldc, accumulate: accumulate); storeNarrowRow(c5, c + 5 * ldc, accumulate: accumulate)
    storeNarrowRow(c6, c + 6 * ldc, accumulate: accumulate); storeNarrowRow(c7, c + 7 * ldc, accumulate: accumulate)
    storeNarrowRow(c8, c + 8 * ldc, accumulate: accumulate); storeNarrowRow(c9, c + 9 * ldc, accumulate: accumulate)
    storeNarrowRow(ca, c + 10 * ldc, accumulate: accumulate); storeNarrowRow(cb, c + 11 * ldc, accumulate: accumulate)
}
#endif
