import Synchronization

/// An n-dimensional array of `float32`, `int32` or `bool` values on one device.
///
/// A `Tensor` is a view: a shared buffer on a device plus a `Layout` (shape, strides, offset).
/// Views (`reshape`, `permute`, slicing, `expand`) share the buffer and copy nothing; every
/// operation returns a new tensor and never changes its inputs. Operations run on the device the
/// operands live on; mixing devices is a programmer error (move one with `to(_:)`). A tensor
/// has at most 8 axes (`Dims.capacity`, as in TensorRT and cuDNN): its shape and strides are
/// held inline, which keeps small ops free of reference counting.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]], device: .opencl(0))
/// let y = (x * 2 + 1).relu().sum(axis: 1)   // tensor([7., 15.], device: opencl:0)
/// ```
public struct Tensor: Sendable {
    private(set) var storage: TensorStorage
    /// Shape, strides and offset of this view into `storage`.
    public let layout: Layout
    /// Autograd's record of this tensor: a leaf that requires grad, or the output of a recorded
    /// op (nil for everything else, the common case).
    let autograd: AutogradMeta?

    init(storage: TensorStorage, layout: Layout, autograd: AutogradMeta? = nil) {
        self.storage = storage
        self.layout = layout
        self.autograd = autograd
    }

    /// Size of each axis.
    public var shape: [Int] { Array(layout.shape) }
    /// Strides in elements (0 on broadcast axes).
    public var strides: [Int] { Array(layout.strides) }
    /// Element offset of this view into its buffer.
    public var offset: Int { layout.offset }
    /// Number of axes.
    public var rank: Int { layout.rank }
    /// Number of elements.
    public var count: Int { layout.count }
    /// Element type.
    public var dtype: DType { storage.dtype }
    /// Where the data lives and kernels run.
    public var device: Device { storage.backend.device }
    /// How many in-place writes this tensor's storage has seen (shared by every view of it).
    public var version: Int { storage.version }
    /// True when the elements are densely packed in row-major order.
    public var isContiguous: Bool { layout.isContiguous }

    /// The view the kernels take.
    var view: StridedView { StridedView(buffer: storage.buffer, dtype: dtype, layout: layout) }

    /// True when this tensor is the only holder of its storage and covers all of it, densely
    /// in row-major order: no view, copy or cache can see its elements (a shared constant is
    /// held by its cache, so it never qualifies).
    mutating func ownsItsStorageAlone() -> Bool {
        layout.isContiguous && layout.offset == 0 && layout.count == storage.elementCount && isKnownUniquelyReferenced(&storage)
    }

    /// Another view of the same buffer.
    func viewing(_ layout: Layout) -> Tensor { Tensor(storage: storage, layout: layout) }

    /// Normalises a possibly negative axis, stopping with a message naming `op` when out of range.
    func axis(_ axis: Int, op: String, rank: Int? = nil) -> Int {
        let rank = rank ?? self.rank
        let normalised = axis < 0 ? axis + rank : axis
        check(normalised >= 0 && normalised < Swift.max(rank, 1),
                     "\(op): axis \(axis) out of range for shape \(shape)")
        return normalised
    }
}

/// A device buffer together with the backend that owns it and the element type it holds.
final class TensorStorage: Sendable {
    let buffer: any BackendBuffer
    let backend: any Backend
    let dtype: DType
    /// The elements the storage was made for (its buffer may hold more: pools round sizes up).
    let elementCount: Int
    /// Writes so far: every in-place op bumps it, so autograd can tell that a tensor it saved
    /// for backward was overwritten.
    private let writes = Atomic<Int>(0)

    var version: Int { writes.load(ordering: .relaxed) }
    /// Why this storage holds no data (the op that made it found its device full), or nil.
    /// Stored, not derived from the backend: every op asks it of every input.
    let failure: TesselError?
    func bumpVersion() { writes.add(1, ordering: .relaxed) }
    /// In-place writes made while recording (each gives the written variable a new history):
    /// a handle whose history predates the latest one (a copy of the variable, another view of
    /// the storage) would differentiate stale values, so autograd refuses it.
    private let recordedWrites = Atomic<Int>(0)
    var historyGeneration: Int { recordedWrites.load(ordering: .relaxed) }
    func bumpHistoryGeneration() { recordedWrites.add(1, ordering: .relaxed) }
    /// Set for shared constants (see `ScalarConstants`): in-place ops refuse to write them.
    private let frozen = Atomic<Bool>(false)
    var isFrozen: Bool { frozen.load(ordering: .relaxed) }
    func freeze() { frozen.store(true, ordering: .relaxed) }

    init(buffer: any BackendBuffer, backend: any Backend, dtype: DType, elementCount: Int) {
        self.buffer = buffer
        self.backend = backend
        self.dtype = dtype
        self.elementCount = elementCount
        failure = backend.failure
    }

}
