/// A device's memory and kernels. The tensor layer reaches a backend only through `Dispatch`.
///
/// To add a device family (CUDA, Metal), write one folder under `Backends/` with a type that
/// conforms to `Backend` and a `BackendProvider`, and list the provider in `BackendRegistry`.
///
/// Conventions every kernel follows:
/// - Inputs are `StridedView`s: any strides, including 0 for broadcast axes; negative strides
///   (reversed views) reach only the element-wise kernels and `copy`.
/// - Element-wise kernels (copy, cast, unary, binary, select, gather) write into an output
///   view: a fresh contiguous tensor or, for in-place updates, any view whose elements do not
///   overlap (the tensor layer has checked it and never lets it overlap an input differently).
///   Reductions, softmax and matmul write fresh contiguous buffers.
/// - All operands of an element-wise kernel have the same shape (the tensor layer has already
///   broadcast them with stride-0 axes).
/// - Kernels are enqueued, not awaited: only `read` waits for the device.
public protocol Backend: AnyObject, Sendable {
    /// The device this backend drives.
    var device: Device { get }
    /// What `tessel devices` prints about it.
    var info: DeviceInfo { get }
    /// Why this backend's tensors hold no data: set only for the placeholders of an op that
    /// found its device full; nil for every real device.
    var failure: TesselError? { get }

    /// A buffer of `count` elements of 4 bytes, uninitialised (from the backend's pool); a
    /// full device stops the program (for a backend's own temporaries).
    func allocate(count: Int) -> any BackendBuffer
    /// The same, or nil when the device has no room: tensors' storage, whose failure the
    /// tensor layer reports as a thrown `TesselError.outOfMemory`.
    func tryAllocate(count: Int) -> (any BackendBuffer)?
    /// Active, cached and peak bytes of the backend's buffer pool.
    var memoryStats: MemoryStats { get }
    /// Releases every cached (freed) buffer back to the driver or the OS.
    func emptyMemoryCache()
    /// Copies `bytes` from the host into the start of `buffer`.
    func write(_ bytes: UnsafeRawBufferPointer, to buffer: any BackendBuffer)
    /// Waits for pending work, then copies the start of `buffer` into `bytes`.
    func read(_ buffer: any BackendBuffer, into bytes: UnsafeMutableRawBufferPointer)
    /// Waits until every enqueued kernel and copy has finished (benchmarks time with this).
    func synchronize()
    /// Sets `count` elements from element `offset` on to the 32-bit pattern `bits`.
    func fill(_ buffer: any BackendBuffer, offset: Int, count: Int, bits: UInt32)

    /// Copies `source` into `destination` element by element (same shape and dtype); both may be
    /// strided, which makes this the kernel behind `contiguous()`, `cat` and slice assignment.
    func copy(_ source: StridedView, to destination: StridedView)
    /// Converts `source` to `output`'s dtype.
    func cast(_ source: StridedView, to dtype: DType, into output: StridedView)
    /// Applies `op` to each element of `x`.
    func unary(_ op: UnaryOp, _ x: StridedView, into output: StridedView)
    /// Applies `op` to each pair of elements; `a` and `b` share one dtype.
    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into output: StridedView)
    /// `op` on `count` pairs of elements of dense operands of one dtype (see `DenseRun`): the
    /// common element-wise case (operands of one shape, or a Swift scalar) without layouts to
    /// walk. Backends without a kernel of their own for it get one through
    /// `binary(_:_:_:into:)`.
    func binary(_ op: BinaryOp, dtype: DType, _ a: DenseRun, _ b: DenseRun, into output: DenseRun, count: Int)
    /// `condition != 0 ? a : b` element-wise.
    func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView)
    /// `x + a * b` element-wise on float32 views of one shape, each a fused multiply-add (one
    /// rounding, so every backend gives the same bits).
    func addingProduct(_ x: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView)
    /// Reduces the trailing `reducedRank` axes of `x`; the output holds one element per index of
    /// the leading axes (int32 for the arg reductions, flat index into the reduced axes).
    func reduce(_ op: ReduceOp, _ x: StridedView, reducedRank: Int, into output: any BackendBuffer)
    /// Softmax (or, with `log`, log-softmax) of each row along the last axis of float32 `x`
    /// (any strides; the leading axes index the rows), shifted by the row's maximum so that
    /// large inputs do not overflow; the output is contiguous in `x`'s shape.
    func softmax(_ x: StridedView, log: Bool, into output: any BackendBuffer)
    /// Batched float32 matrix product: `a` is [batch, m, k], `b` is [batch, k, n], both with any
    /// strides (so transposed and broadcast operands need no copy); output is contiguous [batch, m, n].
    /// With `accumulate` the product is added to what `output` holds, in the GEMM's epilogue
    /// (its final store reads C): `addmm` puts its broadcast bias there first.
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer, accumulate: Bool)
    /// `output[i...] = x[i with axis replaced by index[i...]]`: `index` (int32) has the output's
    /// shape, `x` the same shape except along `axis`. An index outside `x`'s axis stops the
    /// program with the same message on every backend.
    func gather(_ x: StridedView, axis: Int, index: StridedView, into output: StridedView)
    /// `output[i with axis replaced by index[i...]] += source[i...]` for every position of
    /// `index` (int32, `source`'s shape; `output` the same shape except along `axis`). Repeated
    /// indices accumulate. Indices are checked as in `gather`.
    func scatterAdd(into output: StridedView, axis: Int, index: StridedView, source: StridedView)
    /// Running sums or products along the last axis of `x` (any strides; the leading axes
    /// index the rows), into `output` of the same shape, accumulated in order from the start of
    /// each row (so every backend rounds the same way).
    func scan(_ op: ScanOp, _ x: StridedView, into output: StridedView)
    /// The positions (int32) that sort each row along the last axis of `x`: stable (equal
    /// values keep their order), NaN after every number ascending and before every number
    /// descending (NaN counts as the largest value, as in PyTorch).
    func argsort(_ x: StridedView, descending: Bool, into output: StridedView)
    /// Contiguous float32 `images` [N, C, H, W] resampled into contiguous `output`: for output
    /// pixel (x, y) of image n, with p = parameters[n] (contiguous [N, 8]), the input is read at
    /// (p0 x + p1 y + p2, p3 x + p4 y + p5) bilinearly, coordinates clamped to the image (border
    /// padding), and written as value * p6 + p7.
    func warpAffine(_ images: StridedView, parameters: StridedView, into output: StridedView)
    /// im2col: float32 images `x` [N, C, H, W] (any non-negative strides) into contiguous
    /// `output` [N, OH, OW, C * KH * KW], each row ordered (c, ky, kx) or, with
    /// `channelsLast`, (ky, kx, c); positions in the zero padding read 0.
    func unfold(_ x: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView)
    /// col2im: contiguous float32 `columns` [N, OH, OW, C * KH * KW] (rows ordered as
    /// `unfold`'s with the same `channelsLast`) summed into `output` [N, C, H, W], dense with
    /// each image one block in any order of C, H, W (every element written: the sum of the
    /// window entries that read it).
    func fold(_ columns: StridedView, _ windows: WindowGeometry, channelsLast: Bool, into output: StridedView)
    /// For each window of float32 images `x` [N, C, H, W] (any non-negative strides), the
    /// position y * W + x of its first maximum into int32 `output` [N, C, OH, OW] (dense, any
    /// axis order) (a NaN beats every number; positions in the padding never count). Every
    /// window holds at least one pixel (the tensor layer checks the geometry), for this and the
    /// two window-maximum kernels below.
    func windowArgmax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView)
    /// The value of each window's first maximum (as `windowArgmax` finds it) into float32
    /// `output` [N, C, OH, OW] (dense, any axis order).
    func windowMax(_ x: StridedView, _ windows: WindowGeometry, into output: StridedView)
    /// Max pooling's backward: float32 `output` (x's shape, dense with each image one block)
    /// zeroed, then each element of `gradient` [N, C, OH, OW] (any non-negative strides) added
    /// at the position of its window's first maximum in `x`.
    func windowMaxGradient(_ x: StridedView, _ gradient: StridedView, _ windows: WindowGeometry, into output: StridedView)
    /// The bytes at the start of `packed` (one per element, little-endian within each 4-byte
    /// word) widened to `output`'s dtype: int32 (0...255; `scale` 1, `shift` 0) or float32
    /// `byte * scale + shift`, one fused multiply-add.
    func unpackBytes(_ packed: any BackendBuffer, scale: Float, shift: Float, into output: StridedView)
}

extension Backend {
    public var failure: TesselError? { nil }

    public func binary(_ op: BinaryOp, dtype: DType, _ a: DenseRun, _ b: DenseRun, into output: DenseRun, count: Int) {
        binary(op, a.view(dtype, count), b.view(dtype, count), into: output.view(op.resultType(dtype, dtype), count))
    }

    /// `matmul` writing a fresh product (no accumulation).
    func matmul(_ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        matmul(a, b, into: output, accumulate: false)
    }
}

/// Device memory owned by one backend. Freed (or returned to a pool) when the last reference goes.
public protocol BackendBuffer: AnyObject, Sendable {
    /// Capacity in elements of 4 bytes.
    var count: Int { get }
}

/// A read-only view of a buffer as the kernels see it.
public struct StridedView: @unchecked Sendable {
    public let buffer: any BackendBuffer
    public let dtype: DType
    public let layout: Layout

    public init(buffer: any BackendBuffer, dtype: DType, layout: Layout) {
        self.buffer = buffer
        self.dtype = dtype
        self.layout = layout
    }

    public var shape: Dims { layout.shape }
    public var count: Int { layout.count }

    /// The same buffer with another layout.
    func with(_ layout: Layout) -> StridedView { StridedView(buffer: buffer, dtype: dtype, layout: layout) }

    /// The view with its axes in `order` (every operand of an element-wise op permuted alike
    /// leaves the op unchanged).
    func permuted(_ order: [Int]) -> StridedView { with(layout.permuted(order)) }
}

/// An operand of an element-wise kernel over dense operands: elements read from `offset` in
/// `buffer`, one after another (`step` 1) or one element for all (`step` 0: a Swift scalar, a
/// single-element tensor broadcast); an output always has step 1.
public struct DenseRun {
    /// Not retained: a run lives only for the kernel call it is built for, while the tensors it
    /// comes from hold their buffers (a small op's retains and releases were much of its cost).
    /// A backend whose kernel outlives the call (an asynchronous queue) must hold the buffer
    /// itself during the call, as a `StridedView` made from the run does.
    public unowned(unsafe) let buffer: any BackendBuffer
    public let offset: Int
    public let step: Int
    /// The buffer's object, for a backend that reads its own buffer type through it without
    /// the retain that reading `buffer` into a strong reference costs (see `CPUBuffer`).
    let object: Unmanaged<AnyObject>

    /// Made by the dispatcher only, from buffers it knows are held for the call.
    init(buffer: any BackendBuffer, offset: Int, step: Int = 1) {
        self.buffer = buffer
        self.offset = offset
        self.step = step
        object = Unmanaged.passUnretained(buffer)
    }

    /// The run as a strided view of `count` elements.
    func view(_ dtype: DType, _ count: Int) -> StridedView {
        // Built without array literals, which would allocate.
        var shape = Dims(), strides = Dims()
        shape.append(count)
        strides.append(step)
        return StridedView(buffer: buffer, dtype: dtype, layout: Layout(shape: shape, strides: strides, offset: offset))
    }
}

/// Element-wise functions of one operand (float32 unless noted).
public enum UnaryOp: String, Sendable, CaseIterable {
    /// `neg` and `abs` also work on int32.
    case neg, abs, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, square, floor
}

/// Element-wise functions of two operands. Comparisons produce `bool`.
public enum BinaryOp: String, Sendable, CaseIterable {
    /// `div` is true division (float32 operands); `floorDivide` is for int32.
    case add, sub, mul, div, pow, maximum, minimum, floorDivide
    /// `a` where `b > 0`, else 0 (float32): ReLU's backward in one pass (PyTorch's
    /// `threshold_backward` at 0) instead of a comparison, a cast and a product.
    case reluGradient
    case equal, notEqual, less, lessEqual, greater, greaterEqual

    /// True for the ops whose result is a `bool` mask.
    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }
}

/// Reductions over a set of axes.
public enum ReduceOp: String, Sendable, CaseIterable {
    case sum, max, min, argmax, argmin

    /// True for the ops whose result is an int32 index.
    public var isArg: Bool { self == .argmax || self == .argmin }
}

/// The windows a 2-D convolution or pool slides over an image: kernel size, stride, zero
/// padding and dilation, each (along H, along W).
public struct WindowGeometry: Hashable, Sendable {
    public var kernel: (height: Int, width: Int)
    public var stride: (height: Int, width: Int)
    public var padding: (height: Int, width: Int)
    public var dilation: (height: Int, width: Int)

    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Kernel positions per window.
    public var kernelCount: Int { kernel.height * kernel.width }

    /// The number of window positions along an axis of `size`, or nil when the kernel does not fit.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int)? {
        func positions(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int) -> Int? {
            let span = size + 2 * padding - dilation * (kernel - 1) - 1
            return span < 0 ? nil : span / stride + 1
        }
        guard let oh = positions(height, kernel.height, stride.height, padding.height, dilation.height),
              let ow = positions(width, kernel.width, stride.width, padding.width, dilation.width) else { return nil }
        return (oh, ow)
    }

    public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    public func hash(into hasher: inout Hasher) {
        for value in [kernel.height, kernel.width, stride.height, stride.width, padding.height, padding.width, dilation.height, dilation.width] {
            hasher.combine(value)
        }
    }
}

/// Running accumulations along an axis.
public enum ScanOp: String, Sendable, CaseIterable {
    case sum, prod
}

/// A description of a device, as `tessel devices` prints it.
public struct DeviceInfo: Sendable {
    public var backend: String
    public var name: String
    public var vendor: String
    public var computeUnits: Int
    public var memoryBytes: Int
    public var maxWorkGroupSize: Int
    /// Anything else worth printing: SIMD width, driver version, extensions.
    public var details: [(String, String)]
    /// The device's float32 peak, where its hardware description gives it, with the arithmetic
    /// behind it ("132 SMs x 128 lanes x 2 x 1.98 GHz"); nil when unknown.
    public var peakFlops: (flops: Double, derivation: String)?

    public init(backend: String, name: String, vendor: String, computeUnits: Int, memoryBytes: Int,
                maxWorkGroupSize: Int, details: [(String, String)] = [],
                peakFlops: (flops: Double, derivation: String)? = nil) {
        self.backend = backend
        self.name = name
        self.vendor = vendor
        self.computeUnits = computeUnits
        self.memoryBytes = memoryBytes
        self.maxWorkGroupSize = maxWorkGroupSize
        self.details = details
        self.peakFlops = peakFlops
    }

    /// A CPU's float32 peak: two FMA units per core (every x86 server core of the last decade),
    /// each `lanes` wide, two FLOPs per FMA.
    static func cpuPeak(cores: Int, lanes: Int, clock: HostCPU.Clock) -> (flops: Double, derivation: String) {
        (Double(cores * lanes * 2 * 2) * clock.gigahertz * 1e9,
         String(format: "%d cores x %d lanes x 2 FMA x 2 x %.2f GHz, %@ clock", cores, lanes, clock.gigahertz, clock.source))
    }
}
