import Foundation
import Synchronization
import XCTest
@testable import Tessel

/// The OpenCL runtime at the `Backend` level: memory, each kernel family on a small case against
/// a plain Swift reference, the caching allocator, the kernel disk cache and build errors.
/// Skips when the machine has no OpenCL device.
final class OpenCLRuntimeTests: XCTestCase {
    private func backend() throws -> OpenCLBackend {
        guard OpenCLBackendProvider.deviceCount > 0 else {
            throw XCTSkip("no OpenCL device: \(OpenCLBackendProvider.unavailableReason ?? "unknown reason")")
        }
        return try XCTUnwrap(try Device.opencl(0).backend() as? OpenCLBackend)
    }

    // MARK: Helpers

    private func upload(_ values: [Float], _ backend: OpenCLBackend) -> any BackendBuffer {
        let buffer = backend.allocate(count: values.count)
        values.withUnsafeBytes { backend.write($0, to: buffer) }
        return buffer
    }

    private func upload(_ values: [Int32], _ backend: OpenCLBackend) -> any BackendBuffer {
        let buffer = backend.allocate(count: values.count)
        values.withUnsafeBytes { backend.write($0, to: buffer) }
        return buffer
    }

    private func floats(_ buffer: any BackendBuffer, _ count: Int, _ backend: OpenCLBackend) -> [Float] {
        var values = [Float](repeating: .nan, count: count)
        values.withUnsafeMutableBytes { backend.read(buffer, into: $0) }
        return values
    }

    private func ints(_ buffer: any BackendBuffer, _ count: Int, _ backend: OpenCLBackend) -> [Int32] {
        var values = [Int32](repeating: -99, count: count)
        values.withUnsafeMutableBytes { backend.read(buffer, into: $0) }
        return values
    }

    private func view(_ buffer: any BackendBuffer, _ shape: [Int], strides: [Int]? = nil, offset: Int = 0) -> StridedView {
        view(buffer, .float32, shape, strides: strides, offset: offset)
    }

    private func view(_ buffer: any BackendBuffer, _ dtype: DType, _ shape: [Int],
                      strides: [Int]? = nil, offset: Int = 0) -> StridedView {
        let layout = strides.map { Layout(shape: shape, strides: $0, offset: offset) } ?? Layout(contiguous: shape, offset: offset)
        return StridedView(buffer: buffer, dtype: dtype, layout: layout)
    }

    private func assertClose(_ got: [Float], _ expected: [Float], tolerance: Float = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        for (i, (g, e)) in zip(got, expected).enumerated() where !(abs(g - e) <= tolerance * max(1, abs(e))) {
            XCTFail("element \(i): got \(g), expected \(e)", file: file, line: line)
            return
        }
    }

    // MARK: Device and memory

    func testPeakFlopsFromHardwareDescription() {
        // An H200 as NVIDIA's driver describes it: 132 SMs at 1980 MHz, compute capability 9.0.
        let h200 = CLDeviceProbe.peakFlops(computeUnits: 132, clockMHz: 1980, computeCapability: (9, 0), amdSimdLayout: nil)
        XCTAssertEqual(h200?.flops ?? 0, 132 * 128 * 2 * 1.98e9, accuracy: 1)
        XCTAssertEqual(h200?.derivation, "132 SMs x 128 lanes x 2 x 1.98 GHz (compute capability 9.0)")
        // An AMD GCN GPU: 4 SIMD16 units per CU.
        let gcn = CLDeviceProbe.peakFlops(computeUnits: 60, clockMHz: 1800, computeCapability: nil, amdSimdLayout: (4, 16))
        XCTAssertEqual(gcn?.flops ?? 0, 60 * 64 * 2 * 1.8e9, accuracy: 1)
        // A GPU that says nothing about its lanes has no peak rather than a guessed one.
        XCTAssertNil(CLDeviceProbe.peakFlops(computeUnits: 8, clockMHz: 1000, computeCapability: nil, amdSimdLayout: nil))
    }

    /// A CPU driver (pocl) runs on this machine's cores: its peak is the host's, from the same
    /// clock (measured where possible, and then plausible) and physical cores as the CPU backend's.
    func testCPUDevicePeakUsesTheHostClock() throws {
        let backend = try backend()
        try XCTSkipUnless(backend.probe.typeName == "CPU", "opencl:0 is not a CPU driver")
        let clock = HostCPU.clock
        let peak = try XCTUnwrap(backend.info.peakFlops)
        let cores = Swift.min(backend.probe.computeUnits, HostCPU.physicalCoreCount)
        XCTAssertEqual(peak.flops, Double(cores * backend.probe.nativeFloatWidth * 4) * clock.gigahertz * 1e9,
                       accuracy: 1e3)
        XCTAssertTrue(peak.derivation.hasSuffix("GHz, \(clock.source) clock"), peak.derivation)
    }

    func testDeviceInfo() throws {
        let backend = try backend()
        XCTAssertEqual(backend.info.backend, "opencl")
        XCTAssertFalse(backend.info.name.isEmpty)
        let keys = backend.info.details.map(\.0)
        for key in ["type", "driver", "OpenCL", "local memory", "fp64", "extensions"] {
            XCTAssertTrue(keys.contains(key), "details lack \(key): \(keys)")
        }
        XCTAssertEqual(OpenCLBackendProvider.isAccelerator(index: 0), backend.probe.typeName != "CPU" && backend.probe.typeName != "other")
    }

    /// On a CPU driver launches are held back in batches (see `CLLauncher`): every wait for the
    /// device releases them first, whichever thread waits, and chains longer than a batch run
    /// through. A wait that missed a release would hang, so each part has a deadline.
    func testHeldCommandsRunBeforeAnyWait() throws {
        _ = try backend()
        let device = Device.opencl(0)
        // Past the batch limit twice, then a read.
        var total = Tensor.zeros([8], device: device)
        let one = Tensor.ones([8], device: device)
        for _ in 0..<(2 * CLLauncher.heldCommandLimit + 7) { total += one }
        XCTAssertEqual(total.toArray(), [Float](repeating: Float(2 * CLLauncher.heldCommandLimit + 7), count: 8))
        // Threads that launch a few ops and read, racing: each read releases the others' held
        // launches too, and a read enqueued behind another thread's held launches still ends.
        let finished = DispatchGroup()
        let failures = Mutex(0)
        for thread in 0..<4 {
            DispatchQueue.global().async(group: finished) {
                for round in 0..<50 {
                    var x = Tensor.full([16], Double(thread), device: device)
                    for _ in 0..<(round % 5) { x += 1 }
                    if x.toArray() != [Float](repeating: Float(thread + round % 5), count: 16) { failures.withLock { $0 += 1 } }
                }
            }
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "a read waited on launches that were never released")
        XCTAssertEqual(failures.withLock { $0 }, 0)
        // `synchronize` waits through held launches too.
        var y = Tensor.zeros([4], device: device)
        y += 1
        let synchronized = DispatchGroup()
        DispatchQueue.global().async(group: synchronized) { device.resolvedBackend.synchronize() }
        XCTAssertEqual(synchronized.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(y.toArray(), [1, 1, 1, 1])
    }

    func testWriteReadRoundTripAndFill() throws {
        let backend = try backend()
        let values = (0..<1000).map { Float($0) * 0.5 - 7 }
        let buffer = upload(values, backend)
        XCTAssertEqual(floats(buffer, 1000, backend), values)
        backend.fill(buffer, offset: 0, count: 700, bits: Float(3.25).bitPattern)
        let filled = floats(buffer, 1000, backend)
        XCTAssertEqual(Array(filled[..<700]), [Float](repeating: 3.25, count: 700))
        XCTAssertEqual(Array(filled[700...]), Array(values[700...]))
    }

    func testAllocatorReusesFreedBuffers() throws {
        let backend = try backend()
        backend.synchronize()
        _ = backend.allocate(count: 12345) // warm the class, then measure a steady state
        let before = backend.memoryStats
        for step in 0..<50 {
            let a = backend.allocate(count: 12345), b = backend.allocate(count: 1000 + step)
            backend.fill(a, offset: 0, count: 12345, bits: 0)
            backend.fill(b, offset: 0, count: 1000 + step, bits: 0)
        }
        let after = backend.memoryStats
        XCTAssertEqual(after.peakBytes, max(before.peakBytes, after.peakBytes))
        XCTAssertLessThanOrEqual(after.peakBytes - before.peakBytes, 2 * BufferPool<CLHandle>.sizeClass(12345 * 4))
        XCTAssertLessThanOrEqual(after.deviceAllocations - before.deviceAllocations, 2, "steady state must reuse buffers")
        XCTAssertGreaterThan(after.reuses, before.reuses + 90)
        XCTAssertGreaterThan(after.cachedBytes, 0)
        XCTAssertEqual(after.activeBytes, before.activeBytes)
    }

    func testSizeClassesAndCacheLimit() throws {
        XCTAssertEqual(BufferPool<CLHandle>.sizeClass(1), 256)
        XCTAssertEqual(BufferPool<CLHandle>.sizeClass(1024), 1024)
        XCTAssertEqual(BufferPool<CLHandle>.sizeClass(1025), 1280)
        XCTAssertEqual(BufferPool<CLHandle>.sizeClass(1 << 20 + 1), (1 << 20) + (1 << 18))
        for bytes in [300, 5000, 123_457, 9_999_999] {
            let size = BufferPool<CLHandle>.sizeClass(bytes)
            XCTAssertTrue(size >= bytes && Double(size) <= Double(bytes) * 1.25 + 256, "\(bytes) -> \(size)")
        }
        // Each size class has its own slot in the free lists, and the slot gives the class back.
        let classes = [1, 256, 257, 320, 321, 512, 513, 1 << 20, (1 << 20) + 1, 9_999_999, 1 << 40, (1 << 62) + 1].map(BufferPool<CLHandle>.sizeClass)
        let slots = classes.map(BufferPool<CLHandle>.classIndex)
        XCTAssertEqual(classes, slots.map(BufferPool<CLHandle>.classSize))
        XCTAssertEqual(Set(slots).count, Set(classes).count)
        XCTAssertTrue(slots.allSatisfy { $0 >= 0 && $0 < BufferPool<CLHandle>.classCount })
        let backend = try backend()
        let pool = CLAllocator(context: backend.context, cacheLimitBytes: 4096)
        var buffers = (0..<8).map { _ in pool.allocate(count: 256) } // 1 KiB each
        buffers.removeAll()
        XCTAssertEqual(pool.stats.cachedBytes, 4096, "the cache stays within its byte cap")
        XCTAssertEqual(pool.stats.activeBytes, 0)
        XCTAssertEqual(pool.stats.peakBytes, 8192)
    }

    func testConcurrentLaunchesFromSeveralThreads() throws {
        let backend = try backend()
        // Each thread launches the same kernels with its own arguments and frees buffers as it
        // goes: the launch lock and the pool lock must keep every result intact.
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for step in 0..<20 {
                let count = 100 + thread * 37 + step
                let a = backend.allocate(count: count), b = backend.allocate(count: count), out = backend.allocate(count: count)
                backend.fill(a, offset: 0, count: count, bits: Float(thread).bitPattern)
                backend.fill(b, offset: 0, count: count, bits: Float(step).bitPattern)
                let layout = Layout(contiguous: [count])
                backend.binary(.mul, StridedView(buffer: a, dtype: .float32, layout: layout),
                               StridedView(buffer: b, dtype: .float32, layout: layout), into: out)
                var result = [Float](repeating: 0, count: count)
                result.withUnsafeMutableBytes { backend.read(out, into: $0) }
                if result.contains(where: { $0 != Float(thread * step) }) { failures.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
    }

    // MARK: Element-wise

    func testBinaryAddWithBroadcastOperand() throws {
        let backend = try backend()
        let a = (0..<12).map { Float($0) }, row: [Float] = [10, 20, 30, 40]
        let out = backend.allocate(count: 12)
        backend.binary(.add, view(upload(a, backend), [3, 4]), view(upload(row, backend), [3, 4], strides: [0, 1]), into: out)
        XCTAssertEqual(floats(out, 12, backend), (0..<12).map { a[$0] + row[$0 % 4] })

        // int32: rounded-down division (x / 0 = 0) and a comparison producing a bool mask.
        let x: [Int32] = [7, -7, 9, 5, 3, 0], y: [Int32] = [2, 2, 0, 5, -2, 1]
        let ix = upload(x, backend), iy = upload(y, backend)
        backend.binary(.floorDivide, view(ix, .int32, [6]), view(iy, .int32, [6]), into: out)
        XCTAssertEqual(ints(out, 6, backend), [3, -4, 0, 1, -2, 0])
        backend.binary(.greaterEqual, view(ix, .int32, [2, 3]), view(iy, .int32, [2, 3]), into: out)
        XCTAssertEqual(ints(out, 6, backend), [1, 0, 1, 1, 1, 0])
        backend.binary(.maximum, view(upload([1, .nan, 3], backend), [3]), view(upload([2, 0, -1] as [Float], backend), [3]), into: out)
        let maxima = floats(out, 3, backend)
        XCTAssertEqual(maxima[0], 2)
        XCTAssertTrue(maxima[1].isNaN)
        XCTAssertEqual(maxima[2], 3)
    }

    func testUnaryOnTransposedInput() throws {
        let backend = try backend()
        let stored = (0..<15).map { Float($0) / 4 - 1 } // [5, 3] row-major; seen as its [3, 5] transpose
        let out = backend.allocate(count: 15)
        let x = view(upload(stored, backend), [3, 5], strides: [1, 3])
        let transposed = (0..<15).map { stored[($0 % 5) * 3 + $0 / 5] }
        backend.unary(.exp, x, into: out)
        assertClose(floats(out, 15, backend), transposed.map { Foundation.exp($0) })
        backend.unary(.sigmoid, x, into: out)
        assertClose(floats(out, 15, backend), transposed.map { 1 / (1 + Foundation.exp(-$0)) })
        backend.unary(.relu, x, into: out)
        XCTAssertEqual(floats(out, 15, backend), transposed.map { max($0, 0) })
        backend.unary(.neg, view(upload([1, -2, Int32.min], backend), .int32, [3]), into: out)
        XCTAssertEqual(ints(out, 3, backend), [-1, 2, Int32.min])
    }

    func testCopyIntoStridedDestination() throws {
        let backend = try backend()
        let source = (0..<12).map { Float($0) }
        let destination = upload([Float](repeating: -1, count: 32), backend)
        // A [3, 4] block written into columns 2..<6 of rows 1..<4 of an [4, 8] matrix.
        backend.copy(view(upload(source, backend), [3, 4]), to: view(destination, [3, 4], strides: [8, 1], offset: 10))
        var expected = [Float](repeating: -1, count: 32)
        for r in 0..<3 { for c in 0..<4 { expected[(r + 1) * 8 + c + 2] = source[r * 4 + c] } }
        XCTAssertEqual(floats(destination, 32, backend), expected)
    }

    func testCopyOfTheMostAxesATensorHas() throws {
        let backend = try backend()
        // Eight axes of 2 with reversed strides collapse to nothing: the kernel decodes all eight.
        let rank = Dims.capacity
        let shape = [Int](repeating: 2, count: rank), strides = (0..<rank).map { 1 << $0 }
        let source = (0..<(1 << rank)).map { Float($0) }
        let out = backend.allocate(count: 1 << rank)
        backend.copy(view(upload(source, backend), shape, strides: strides), to: view(out, shape))
        let expected = (0..<(1 << rank)).map { i in
            Float((0..<rank).reduce(0) { sum, axis in sum + ((i >> (rank - 1 - axis)) & 1) << axis })
        }
        XCTAssertEqual(floats(out, 1 << rank, backend), expected)
    }

    func testCastAndSelect() throws {
        let backend = try backend()
        let out = backend.allocate(count: 6)
        let values: [Float] = [-2.7, -0.0, 0.4, 1.9, .nan, 3e10]
        let x = view(upload(values, backend), [6])
        backend.cast(x, to: .int32, into: out)
        XCTAssertEqual(ints(out, 6, backend), [-2, 0, 0, 1, 0, Int32.max])
        backend.cast(x, to: .bool, into: out)
        XCTAssertEqual(ints(out, 6, backend), [1, 0, 1, 1, 1, 1])
        backend.cast(view(upload([-3, 0, 5] as [Int32], backend), .int32, [3]), to: .float32, into: out)
        XCTAssertEqual(floats(out, 3, backend), [-3, 0, 5])

        let condition = upload([1, 0, 0, 1] as [Int32], backend)
        let a = upload([1, 2, 3, 4] as [Float], backend), b = upload([9] as [Float], backend)
        backend.select(view(condition, .bool, [2, 2]), view(a, [2, 2]), view(b, [2, 2], strides: [0, 0]), into: out)
        XCTAssertEqual(floats(out, 4, backend), [1, 9, 9, 4])
    }

    func testGather() throws {
        let backend = try backend()
        let x = (0..<12).map { Float($0) } // [3, 4]
        let index: [Int32] = [3, 0, 1, 1, 2, 3] // [3, 2]: two picks per row along axis 1
        let out = backend.allocate(count: 6)
        backend.gather(view(upload(x, backend), [3, 4]), axis: 1, index: view(upload(index, backend), .int32, [3, 2]), into: out)
        XCTAssertEqual(floats(out, 6, backend), [3, 0, 5, 5, 10, 11])
        // Along axis 0 of the transposed view.
        let rows: [Int32] = [2, 0, 1]
        backend.gather(view(upload(x, backend), [4, 3], strides: [1, 4]), axis: 0,
                       index: view(upload(rows, backend), .int32, [1, 3]), into: out)
        XCTAssertEqual(floats(out, 3, backend), [2, 4, 9])
    }

    // MARK: Reductions

    func testReduceSumOverLastAxisAndAll() throws {
        for strategy in OpenCLBackend.ReduceStrategy.allCases { try checkReduceSumOverLastAxisAndAll(strategy) }
    }

    private func checkReduceSumOverLastAxisAndAll(_ strategy: OpenCLBackend.ReduceStrategy) throws {
        let backend = try backend()
        // Rows shorter than a warp, of one or a few warps (a shrunk work-group), long and very long.
        for (rows, columns) in [(7, 10), (6, 40), (4, 100), (5, 300), (3, 70_000)] {
            let x = (0..<rows * columns).map { Float(($0 * 7919) % 1000) / 1000 }
            let out = backend.allocate(count: rows)
            backend.reduce(.sum, view(upload(x, backend), [rows, columns]), reducedRank: 1, into: out, strategy: strategy)
            let expected = (0..<rows).map { r in Float((0..<columns).reduce(0.0) { $0 + Double(x[r * columns + $1]) }) }
            assertClose(floats(out, rows, backend), expected, tolerance: 1e-5)
        }
        // Over the first axis of a matrix: a strided (transposed) inner walk.
        let x = (0..<600).map { Float($0 % 13) } // [20, 30]
        let out = backend.allocate(count: 30)
        backend.reduce(.sum, view(upload(x, backend), [30, 20], strides: [1, 30]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(floats(out, 30, backend), (0..<30).map { c in (0..<20).reduce(Float(0)) { $0 + x[$1 * 30 + c] } })
        // Over the first axis with 64-column blocks, a ragged last block, and rows enough for partials.
        for (rows, columns) in [(300, 100), (1100, 70), (2, 64)] {
            let m = (0..<rows * columns).map { Float(($0 * 31) % 17) - 8 }
            let sums = backend.allocate(count: columns)
            backend.reduce(.sum, view(upload(m, backend), [columns, rows], strides: [1, columns]), reducedRank: 1, into: sums,
                           strategy: strategy)
            XCTAssertEqual(floats(sums, columns, backend),
                           (0..<columns).map { c in (0..<rows).reduce(Float(0)) { $0 + m[$1 * columns + c] } }, "[\(rows), \(columns)] axis 0")
        }
        // int32 sum over everything.
        let ix = (0..<1000).map { Int32($0 - 300) }
        backend.reduce(.sum, view(upload(ix, backend), .int32, [10, 100]), reducedRank: 2, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [ix.reduce(0, +)])
    }

    func testFullSumOfSixteenMillionIsAccurate() throws {
        for strategy in OpenCLBackend.ReduceStrategy.allCases { try checkFullSumOfSixteenMillionIsAccurate(strategy) }
    }

    private func checkFullSumOfSixteenMillionIsAccurate(_ strategy: OpenCLBackend.ReduceStrategy) throws {
        let backend = try backend()
        let count = 1 << 24
        var generator = SplitMix(seed: 42)
        var values = [Float](repeating: 0, count: count)
        var reference = 0.0
        for i in 0..<count {
            values[i] = Float(generator.next() >> 40) / Float(1 << 24)
            reference += Double(values[i])
        }
        let out = backend.allocate(count: 1)
        backend.reduce(.sum, view(upload(values, backend), [count]), reducedRank: 1, into: out, strategy: strategy)
        let sum = Double(floats(out, 1, backend)[0])
        XCTAssertLessThan(abs(sum - reference) / reference, 1e-4, "sum \(sum), reference \(reference)")
    }

    func testArgmaxMaxAndMin() throws {
        for strategy in OpenCLBackend.ReduceStrategy.allCases { try checkArgmaxMaxAndMin(strategy) }
    }

    private func checkArgmaxMaxAndMin(_ strategy: OpenCLBackend.ReduceStrategy) throws {
        let backend = try backend()
        // Rows: a tie (first occurrence wins), a NaN (wins, as in NumPy), a long row (group path).
        var x: [Float] = [1, 5, 5, 2, 0, 3, .nan, 9]
        let long = (0..<1000).map { Float(($0 * 37) % 1000) } // max 999 at index 27
        x += long.prefix(4) // pad row 3 of the first matrix
        let small = upload(x, backend), out = backend.allocate(count: 3)
        backend.reduce(.argmax, view(small, [3, 4]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 3, backend), [1, 2, 3])
        backend.reduce(.max, view(small, [3, 4]), reducedRank: 1, into: out, strategy: strategy)
        let maxima = floats(out, 3, backend)
        XCTAssertEqual(maxima[0], 5)
        XCTAssertTrue(maxima[1].isNaN)
        XCTAssertEqual(maxima[2], long.prefix(4).max()!)
        backend.reduce(.argmin, view(small, [3, 4]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 3, backend), [0, 2, Int32(long.prefix(4).firstIndex(of: long.prefix(4).min()!)!)])

        let big = upload(long + long, backend) // [2, 1000]; second row identical
        backend.reduce(.argmax, view(big, [2, 1000]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 2, backend), [27, 27])
        backend.reduce(.argmax, view(big, [2000]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [27], "ties across a long row keep the first occurrence")

        // Long enough for two passes (partials carry their indices); the maximum occurs several times.
        let huge = (0..<40_000).map { Float(($0 * 7919) % 10_007) }
        backend.reduce(.argmax, view(upload(huge, backend), [40_000]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [Int32(huge.firstIndex(of: huge.max()!)!)])
        backend.reduce(.max, view(upload(huge, backend), [40_000]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(floats(out, 1, backend), [huge.max()!])

        // Value-only max/min of contiguous rows take 16 lanes at a time: NaN in the vector part
        // and in the tail must still win, and ints too.
        var lanes = (0..<40).map { Float(($0 * 13) % 40) }
        let plain = upload(lanes, backend)
        lanes[5] = .nan
        let nanEarly = upload(lanes, backend)
        lanes[5] = 1
        lanes[37] = .nan
        let nanLate = upload(lanes, backend)
        backend.reduce(.max, view(plain, [40]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(floats(out, 1, backend), [39])
        backend.reduce(.min, view(plain, [40]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(floats(out, 1, backend), [0])
        for buffer in [nanEarly, nanLate] {
            backend.reduce(.max, view(buffer, [40]), reducedRank: 1, into: out, strategy: strategy)
            XCTAssertTrue(floats(out, 1, backend)[0].isNaN)
            backend.reduce(.min, view(buffer, [40]), reducedRank: 1, into: out, strategy: strategy)
            XCTAssertTrue(floats(out, 1, backend)[0].isNaN)
        }
        let wide = (0..<50).map { Int32(($0 * 17) % 50) - 20 }
        backend.reduce(.max, view(upload(wide, backend), .int32, [50]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [wide.max()!])

        // Rows of 50 (a work-group of 64 on GPUs): argmax with the maximum twice in each row.
        var fifty = [Float](repeating: 0, count: 200)
        for i in 0..<200 { fifty[i] = (i * 7) % 25 == 3 ? 99 : Float((i * 13) % 41) }
        let four = backend.allocate(count: 4)
        backend.reduce(.argmax, view(upload(fifty, backend), [4, 50]), reducedRank: 1, into: four, strategy: strategy)
        var firstMaxima: [Int32] = []
        for r in 0..<4 {
            let row = Array(fifty[(r * 50)..<(r * 50 + 50)])
            firstMaxima.append(Int32(row.firstIndex(of: 99)!))
        }
        XCTAssertEqual(ints(four, 4, backend), firstMaxima)

        let ix: [Int32] = [4, -9, 7, -9, 3, 7]
        backend.reduce(.min, view(upload(ix, backend), .int32, [6]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [-9])
        backend.reduce(.argmin, view(upload(ix, backend), .int32, [6]), reducedRank: 1, into: out, strategy: strategy)
        XCTAssertEqual(ints(out, 1, backend), [1])
    }

    // MARK: Softmax

    func testSoftmaxRowsWithBothStrategies() throws {
        let backend = try backend()
        for strategy in OpenCLBackend.ReduceStrategy.allCases {
            // Rows of 3 (shorter than a warp), 70 (16-lane vectors and a tail) and 1000; a
            // transposed view (strided rows); a row with NaN, one of all -inf, one with +inf.
            for (rows, columns) in [(4, 3), (5, 70), (3, 1000)] {
                let x = (0..<rows * columns).map { Float(($0 * 37) % 101) / 10 - 5 }
                for transposed in [false, true] {
                    let input = transposed
                        ? view(upload(x, backend), [rows, columns], strides: [1, rows])
                        : view(upload(x, backend), [rows, columns])
                    let at = { (r: Int, c: Int) in transposed ? x[c * rows + r] : x[r * columns + c] }
                    for log in [false, true] {
                        let out = backend.allocate(count: rows * columns)
                        backend.softmax(input, log: log, into: out, strategy: strategy)
                        var expected: [Float] = []
                        for r in 0..<rows {
                            let peak = (0..<columns).map { Double(at(r, $0)) }.max()!
                            let sum = (0..<columns).reduce(0.0) { $0 + Foundation.exp(Double(at(r, $1)) - peak) }
                            expected += (0..<columns).map { c in
                                let shifted = Double(at(r, c)) - peak
                                return Float(log ? shifted - Foundation.log(sum) : Foundation.exp(shifted) / sum)
                            }
                        }
                        assertClose(floats(out, rows * columns, backend), expected, tolerance: 1e-5)
                    }
                }
            }
            let special: [Float] = [1, .nan, 2, -.infinity, -.infinity, -.infinity, 0, .infinity, 1]
            let out = backend.allocate(count: 9)
            backend.softmax(view(upload(special, backend), [3, 3]), log: false, into: out, strategy: strategy)
            let soft = floats(out, 9, backend)
            XCTAssertTrue(soft.allSatisfy(\.isNaN), "NaN, all -inf and +inf rows give NaN, as exp(x - max) / sum does: \(soft)")
            backend.softmax(view(upload(special, backend), [3, 3]), log: true, into: out, strategy: strategy)
            let logs = floats(out, 9, backend)
            XCTAssertTrue(logs[0..<6].allSatisfy(\.isNaN), "NaN and all -inf rows give NaN, as in PyTorch: \(logs)")
            XCTAssertEqual(logs[6], -.infinity, "x - log(sum) with an infinite sum")
        }
    }

    // MARK: Matmul

    private func referenceMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int,
                                 aAt: (Int, Int) -> Int, bAt: (Int, Int) -> Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var sum = 0.0
            for p in 0..<k { sum += Double(a[aAt(i, p)]) * Double(b[bAt(p, j)]) }
            c[i * n + j] = Float(sum)
        } }
        return c
    }

    /// The device's own GEMM, and both variants forced: the GPU's local-memory tiles run here on
    /// pocl too, with batches sliced in twos (GPUs bound the NDRange axis that carries the batch).
    private func gemmBackends() throws -> [OpenCLBackend] {
        let probe = OpenCLBackendProvider.discovery.devices[0]
        return [try backend(),
                try OpenCLBackend(probe: probe, index: 0, gemmVariant: "local", gemmBatchLimit: 2),
                try OpenCLBackend(probe: probe, index: 0, gemmVariant: "blocked")]
    }

    func testEveryGemmVariantIsTheTilingItClaims() throws {
        let variants = try gemmBackends().dropFirst().map(\.gemmTile.variant)
        XCTAssertEqual(variants, [.localMemory, .registerBlocked])
    }

    func testMatmulWithTransposedOperand() throws {
        for backend in try gemmBackends() {
            for (m, k, n) in [(1, 1, 1), (7, 13, 5), (127, 129, 65), (130, 40, 150)] {
                let a = (0..<m * k).map { Float(($0 * 31) % 17) / 8 - 1 }
                let bt = (0..<n * k).map { Float(($0 * 13) % 11) / 5 - 1 } // B stored as [n, k]
                let out = backend.allocate(count: m * n)
                backend.matmul(view(upload(a, backend), [1, m, k]), view(upload(bt, backend), [1, k, n], strides: [0, 1, k]),
                               into: out)
                let expected = referenceMatmul(a, bt, m: m, k: k, n: n, aAt: { $0 * k + $1 }, bAt: { $1 * k + $0 })
                assertClose(floats(out, m * n, backend), expected, tolerance: 1e-4)
            }
        }
    }

    func testBatchedMatmulWithBroadcastBatch() throws {
        for backend in try gemmBackends() {
            let (batch, m, k, n) = (3, 9, 6, 70)
            let a = (0..<m * k).map { Float($0 % 7) - 3 } // shared by every batch (stride 0), transposed view
            let b = (0..<batch * k * n).map { Float($0 % 5) - 2 }
            let out = backend.allocate(count: batch * m * n)
            backend.matmul(view(upload(a, backend), [batch, m, k], strides: [0, 1, m]), view(upload(b, backend), [batch, k, n]),
                           into: out)
            var expected: [Float] = []
            for t in 0..<batch {
                expected += referenceMatmul(a, b, m: m, k: k, n: n, aAt: { $1 * m + $0 }, bAt: { t * k * n + $0 * n + $1 })
            }
            XCTAssertEqual(floats(out, batch * m * n, backend), expected, "\(backend.gemmTile.summary)")
        }
    }

    /// Both GEMM variants add their product to what C holds when asked (addmm's epilogue),
    /// including across the CPU variant's K slices.
    func testMatmulAccumulatesIntoC() throws {
        for backend in try gemmBackends() {
            for (m, k, n) in [(5, 7, 3), (70, 2300, 9)] {
                let a = (0..<m * k).map { Float(($0 * 7) % 13) / 6 - 1 }
                let b = (0..<k * n).map { Float(($0 * 5) % 11) / 5 - 1 }
                let bias = (0..<m * n).map { Float($0 % 4) - 1.5 }
                let out = upload(bias, backend)
                backend.matmul(view(upload(a, backend), [1, m, k]), view(upload(b, backend), [1, k, n]), into: out, accumulate: true)
                let product = referenceMatmul(a, b, m: m, k: k, n: n, aAt: { $0 * k + $1 }, bAt: { $0 * n + $1 })
                assertClose(floats(out, m * n, backend), zip(product, bias).map { $0 + $1 }, tolerance: 1e-3)
            }
        }
    }

    // MARK: Kernel builds

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessel-kernels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func kernelCache(_ backend: OpenCLBackend, _ directory: URL?) -> KernelCache {
        KernelCache(context: backend.context, device: backend.probe.id, deviceName: backend.probe.name,
                    driverVersion: backend.probe.driverVersion, directory: directory)
    }

    func testProgramBinariesComeBackFromDisk() throws {
        let backend = try backend()
        let directory = try temporaryDirectory()
        let source = "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }"
        let first = kernelCache(backend, directory)
        _ = try first.program(family: "twice", source: source, options: "")
        XCTAssertEqual(first.builds, 1)
        XCTAssertEqual(first.loadsFromDisk, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(files.count, 1)

        let second = kernelCache(backend, directory)
        _ = try second.program(family: "twice", source: source, options: "")
        XCTAssertEqual(second.loadsFromDisk, 1, "a second cache (another process) starts warm")
        XCTAssertEqual(second.builds, 0)

        // Other options are another key; a corrupt binary falls back to a build.
        _ = try second.program(family: "twice", source: source, options: "-cl-mad-enable")
        XCTAssertEqual(second.builds, 1)
        try Data("not a program".utf8).write(to: directory.appendingPathComponent(files[0]))
        let third = kernelCache(backend, directory)
        _ = try third.program(family: "twice", source: source, options: "")
        XCTAssertEqual(third.builds, 1)
        XCTAssertEqual(third.loadsFromDisk, 0)

        // An unusable cache folder only disables the disk cache.
        let blocked = directory.appendingPathComponent("file")
        try Data().write(to: blocked)
        _ = try kernelCache(backend, blocked.appendingPathComponent("kernels")).program(family: "twice", source: source, options: "")
    }

    func testBrokenKernelReportsFamilyAndBuildLog() throws {
        let backend = try backend()
        let cache = kernelCache(backend, nil)
        XCTAssertThrowsError(try cache.program(family: "broken", source: "__kernel void f(__global float* x) { x[0] = y; }",
                                               options: "")) { error in
            guard case TesselError.kernelBuildFailed(let kernel, let device, let log) = error else {
                return XCTFail("expected kernelBuildFailed, got \(error)")
            }
            XCTAssertEqual(kernel, "broken")
            XCTAssertEqual(device, backend.probe.name)
            XCTAssertFalse(log.isEmpty)
            XCTAssertTrue(String(describing: error).contains("broken"))
            XCTAssertTrue(String(describing: error).contains(log))
        }
    }

    func testProfilingTimesEachKernel() throws {
        let backend = try backend()
        let buffer = backend.allocate(count: 4096)
        backend.startProfiling()
        backend.fill(buffer, offset: 0, count: 4096, bits: 0)
        backend.unary(.neg, view(buffer, [4096]), into: buffer)
        let timings = backend.stopProfiling()
        XCTAssertEqual(timings.map(\.kernel), ["fill_u32", "unary_neg_f_1d"])
        XCTAssertTrue(backend.stopProfiling().isEmpty)
    }
}

/// A small deterministic generator, so the accuracy test sees the same data every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The kernels with a dense output at the start of a buffer, as these tests write them.
extension OpenCLBackend {
    private func dense(_ buffer: any BackendBuffer, _ shape: Dims, _ dtype: DType) -> StridedView {
        StridedView(buffer: buffer, dtype: dtype, layout: Layout(contiguous: shape))
    }

    func unary(_ op: UnaryOp, _ x: StridedView, into out: any BackendBuffer) {
        unary(op, x, into: dense(out, x.shape, x.dtype))
    }

    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: any BackendBuffer) {
        binary(op, a, b, into: dense(out, a.shape, op.isComparison ? .bool : a.dtype))
    }

    func cast(_ x: StridedView, to dtype: DType, into out: any BackendBuffer) {
        cast(x, to: dtype, into: dense(out, x.shape, dtype))
    }

    func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into out: any BackendBuffer) {
        select(condition, a, b, into: dense(out, a.shape, a.dtype))
    }

    func gather(_ x: StridedView, axis: Int, index: StridedView, into out: any BackendBuffer) {
        gather(x, axis: axis, index: index, into: dense(out, index.shape, x.dtype))
    }
}
