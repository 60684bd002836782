/// Where the tensors of an op that could not get device memory live: the op's result keeps its
/// shape, dtype and device, later ops on it are worked out shape by shape (so a programmer
/// error still stops at the op that makes it) and run no kernel, and a throwing read
/// (`try x.checked()`) hands the caller the `TesselError` instead of stopping the program.
/// A non-throwing read stops with the error's message.
final class FailedBackend: Backend {
    /// The device the tensors were meant for.
    let device: Device
    /// Why they could not be computed.
    let error: TesselError
    var failure: TesselError? { error }

    init(device: Device, failure: TesselError) {
        self.device = device
        error = failure
    }

    var info: DeviceInfo { DeviceInfo(backend: "failed", name: error.description, vendor: "", computeUnits: 0, memoryBytes: 0,
                                      maxWorkGroupSize: 1) }

    func allocate(count: Int) -> any BackendBuffer { PlaceholderBuffer(count: count) }
    func tryAllocate(count: Int) -> (any BackendBuffer)? { PlaceholderBuffer(count: count) }
    var memoryStats: MemoryStats {
        MemoryStats(activeBytes: 0, cachedBytes: 0, peakBytes: 0, cacheLimitBytes: 0, deviceAllocations: 0, reuses: 0)
    }
    func emptyMemoryCache() {}
    func write(_ bytes: UnsafeRawBufferPointer, to buffer: any BackendBuffer) {}
    func read(_ buffer: any BackendBuffer, into bytes: UnsafeMutableRawBufferPointer) { checkFailure(error.description) }
    func synchronize() {}
    func fill(_ buffer: any BackendBuffer, offset: Int, count: Int, bits: UInt32) {}
    func copy(_ source: StridedView, to destination: StridedView) {}
    func cast(_ source: StridedView, to dtype: DType, into output: StridedView) {}
    func unary(_ op: UnaryOp, _ x: StridedView, into output: StridedView) {}
    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into output: StridedView) {}
    func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {}
    func addingProduct(_ x: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {}
    func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer) {}
    func softmax(_ x: StridedView, log: Bool, into output: any BackendBuffer) {}
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer, accumulate: Bool) {}
    func gather(_ x: StridedView, axis: Int, index: StridedView, into output: StridedView) {}
    func scatterAdd(into output: StridedView, axis: Int, index: StridedView, source: StridedView) {}
    func scan(_ op: ScanOp, _ x: StridedView, into output: StridedView) {}
    func argsort(_ x: StridedView, descending: Bool, into output: StridedView) {}
    func warpAffine(_ images: StridedView, parameters: StridedView, into output: StridedView) {}
    func unfold(_ x: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {}
    func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {}
    func windowMax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView) {}
    func windowMaxGradient(_ x: StridedView, _ gradient: StridedView, _ windows: WindowGeometry, into output: StridedView) {}
    func fold(_ columns: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView) {}
    func unpackBytes(_ packed: any BackendBuffer, scale: Float, shift: Float, into output: StridedView) {}
}

/// A buffer with a size and no memory.
final class PlaceholderBuffer: BackendBuffer, Sendable {
    let count: Int
    init(count: Int) { self.count = count }
}
