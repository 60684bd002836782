/// The primitive operations of Tessel: every tensor operation, views included, reaches a backend
/// as one of these through `Dispatch.run`.
///
/// The set is closed on purpose. An exhaustive `switch` over it (the dispatcher's, an autograd
/// rule table's, a lazy scheduler's) is refused by the compiler when a case is missing, so a new
/// primitive cannot be added without deciding how it is run and differentiated. Composite
/// operations (`mean`, `clamp`, `logSumExp`, `oneHot`, ...) are written out of these above the
/// entry point and never appear here.
///
/// Arguments are already validated and normalised by the tensor layer (axes non-negative and
/// sorted, shapes resolved), so a recorded op can be replayed as it stands.
public enum Op: Sendable, Equatable {
    // MARK: Creation (no tensor inputs)

    /// A tensor of `shape` with every element the 4-byte pattern `bits` (or, in place, the
    /// destination filled with it).
    case full(shape: [Int], dtype: DType, bits: UInt32, device: Device)
    /// A tensor of `shape` uploaded from host memory.
    case fromHost(shape: [Int], dtype: DType, device: Device)
    /// A tensor of `shape` from host bytes, one per element (pixels), widened on the device.
    case fromBytes(shape: [Int], dtype: DType, device: Device)
    /// Bytes kept four to an int32 word (byte j of a row is byte j % 4 of word j / 4,
    /// little-endian) widened to `dtype`: int32 [..., W] becomes [..., 4 * W], int32 values
    /// 0...255 or float32 `byte * scale + shift` (one fused multiply-add: a batch's
    /// normalisation comes with it). A dataset kept packed on the device costs a quarter of its
    /// float size, and so does each batch gathered from it.
    case unpackBytes(DType, scale: Float, shift: Float)

    // MARK: Views (no kernel: the output shares its input's storage)

    /// The same elements in a new shape (copies first when the strides allow no view).
    case reshape([Int])
    /// The axes reordered.
    case permute([Int])
    /// Size-1 and new leading axes repeated with stride 0.
    case expand([Int])
    /// A window: positions, ranges with steps (negative steps reverse) and new axes.
    case slice([TensorIndex])
    /// Any shape, strides and offset over the input's storage (offset from the storage start).
    case asStrided(shape: [Int], strides: [Int], offset: Int)

    // MARK: Movement

    /// A densely packed copy.
    case contiguous
    /// The elements converted to another dtype.
    case cast(DType)
    /// A copy on another device.
    case transfer(Device)
    /// The inputs joined along an existing axis.
    case cat(axis: Int)
    /// The input, broadcast to the destination's shape, written into the destination (in place only).
    case assign
    /// The input grown by `widths[2 * axis]` elements before and `widths[2 * axis + 1]` after
    /// each axis, filled as `mode` says.
    case pad(widths: [Int], mode: PadMode)

    // MARK: Compute

    case unary(UnaryOp)
    /// Broadcasting binary op; int32 and float32 operands are promoted to float32.
    case binary(BinaryOp)
    /// `condition ? a : b` (inputs: a bool condition, a, b), broadcasting all three.
    case select
    /// `x + a * b` (inputs x, a, b) with broadcasting, float32, each element one fused
    /// multiply-add: Swift's `addingProduct`, PyTorch's `addcmul`. Optimizer updates are made
    /// of it (one pass where a product and a sum took two and a temporary).
    case addingProduct
    /// Reduces the given axes away.
    case reduce(ReduceOp, axes: [Int])
    /// Softmax (or log-softmax) along one axis, float32.
    case softmax(axis: Int, log: Bool)
    /// NumPy's `matmul` of two float32 operands (vectors, matrices, broadcast batches).
    case matmul
    /// `bias + a @ b` (inputs: bias, a, b; float32, the bias broadcast to the product's shape),
    /// the bias added in the GEMM's epilogue rather than by a second pass.
    case addmm
    /// `torch.gather` along `axis` (inputs: source, int32 index).
    case gather(axis: Int)
    /// Running sums or products along `axis`.
    case scan(ScanOp, axis: Int)
    /// The int32 positions that sort `axis` (stable; NaN counts as the largest value).
    case argsort(axis: Int, descending: Bool)
    /// `torch.scatter_add` along `axis` (inputs: base, int32 index, source): a copy of base with
    /// each source element added at its index.
    case scatterAdd(axis: Int)
    /// Images [N, C, H, W] resampled through a per-image affine map, then scaled and shifted
    /// (inputs: float32 images, float32 parameters [N, 8]; see `Tensor.warpAffine`): batch
    /// augmentation in one kernel.
    case warpAffine
    /// The sliding windows of images [N, C, H, W] (zero-padded) as GEMM rows: [N, OH, OW,
    /// C * KH * KW], each row one window (im2col), channel-major (c, ky, kx) or, with
    /// `channelsLast`, tap-major (ky, kx, c).
    case unfold(WindowGeometry, channelsLast: Bool)
    /// The inverse arrangement of `unfold`, overlapping windows summed: rows [N, OH, OW,
    /// C * KH * KW] back to images [N, C, height, width] (col2im; unfold's gradient).
    case fold(WindowGeometry, height: Int, width: Int, channelsLast: Bool)
    /// Where each window of images [N, C, H, W] has its first maximum: int32 [N, C, OH, OW], the
    /// position y * W + x inside the image (positions in the padding never win; NaN does), as
    /// the indices of PyTorch's `max_pool2d(..., return_indices=True)`.
    case windowArgmax(WindowGeometry)
    /// The value of each window's first maximum (max pooling): float32 [N, C, OH, OW]. Its
    /// gradient is `windowMaxGradient`.
    case windowMax(WindowGeometry)
    /// Max pooling's backward (inputs: images [N, C, H, W], gradient [N, C, OH, OW]): each
    /// gradient element added at its window's first maximum, zero elsewhere, as PyTorch's
    /// `max_pool2d_with_indices_backward` (the maxima found again, no index tensor kept).
    case windowMaxGradient(WindowGeometry)

    /// The op's name as messages and benchmarks print it.
    public var name: String {
        switch self {
        case .full: return "full"
        case .fromHost: return "fromHost"
        case .fromBytes: return "fromBytes"
        case .unpackBytes: return "unpackBytes"
        case .pad: return "pad"
        case .scan(let op, _): return op == .sum ? "cumsum" : "cumprod"
        case .argsort: return "argsort"
        case .reshape: return "reshape"
        case .permute: return "permute"
        case .expand: return "expand"
        case .slice: return "slice"
        case .asStrided: return "asStrided"
        case .contiguous: return "contiguous"
        case .cast: return "cast"
        case .transfer: return "transfer"
        case .cat: return "cat"
        case .assign: return "assign"
        case .unary(let op): return op.rawValue
        case .binary(let op): return op.rawValue
        case .select: return "where"
        case .addingProduct: return "addingProduct"
        case .reduce(let op, _): return op.rawValue
        case .softmax(_, let log): return log ? "logSoftmax" : "softmax"
        case .matmul: return "matmul"
        case .addmm: return "addmm"
        case .gather: return "gather"
        case .scatterAdd: return "scatterAdd"
        case .warpAffine: return "warpAffine"
        case .unfold: return "unfold"
        case .fold: return "fold"
        case .windowArgmax: return "windowArgmax"
        case .windowMax: return "windowMax"
        case .windowMaxGradient: return "windowMaxGradient"
        }
    }

    /// True for the ops whose output shares its input's storage (no kernel runs).
    public var isView: Bool {
        switch self {
        case .reshape, .permute, .expand, .slice, .asStrided: return true
        default: return false
        }
    }
}

/// How `pad` fills the new elements.
public enum PadMode: Sendable, Equatable {
    /// Every new element is this value.
    case constant(Double)
    /// Mirrored about the edge, the edge itself not repeated (NumPy's and PyTorch's "reflect").
    case reflect
    /// The edge element repeated.
    case replicate
}

extension PadMode {
    /// For each position along a padded axis, the position of the input it copies (reflect and
    /// replicate): shared by the op, which gathers them, and its gradient, which scatters back.
    static func sourcePositions(_ mode: PadMode, size: Int, before: Int, padded: Int) -> [Int32] {
        (0..<padded).map { i in
            let p = i - before
            if mode == .replicate { return Int32(Swift.min(Swift.max(p, 0), size - 1)) }
            // Reflect: back and forth over 0...size-1 without repeating the edges.
            let period = 2 * (size - 1)
            guard period > 0 else { return 0 }
            let q = ((p % period) + period) % period
            return Int32(q < size ? q : period - q)
        }
    }
}

/// What the entry point saw of one op: the op, its tensor inputs and its output (for an in-place
/// op, the destination it wrote into).
public struct OpRecord: Sendable {
    public let op: Op
    public let inputs: [Tensor]
    public let output: Tensor
    /// True when the op wrote into an existing tensor instead of making a new one.
    public let inPlace: Bool
}

/// Something that sees every op the entry point runs in a task: the autograd tape, a tracer,
/// a test's recorder. Installed for a scope with `Dispatch.observing(_:_:)`.
public protocol OpObserver: Sendable {
    func record(_ record: OpRecord)
}
