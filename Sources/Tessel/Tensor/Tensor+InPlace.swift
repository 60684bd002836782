// In-place updates: the result is written into the tensor's own storage (through its view,
// so an update of a slice lands in the base tensor), and every view of that storage sees it.
// Each write bumps the storage's `version`. The right-hand side broadcasts to the tensor's
// shape; a float32 result cannot be written into an int32 tensor (as in PyTorch).

extension Tensor {
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.update(.binary(.add), rhs) }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.update(.binary(.sub), rhs) }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.update(.binary(.mul), rhs) }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.update(.binary(.div), rhs) }
    public static func += <S: TensorScalar>(lhs: inout Tensor, rhs: S) { lhs.update(.binary(.add), lhs.scalar(rhs)) }
    public static func -= <S: TensorScalar>(lhs: inout Tensor, rhs: S) { lhs.update(.binary(.sub), lhs.scalar(rhs)) }
    public static func *= <S: TensorScalar>(lhs: inout Tensor, rhs: S) { lhs.update(.binary(.mul), lhs.scalar(rhs)) }
    public static func /= <S: TensorScalar>(lhs: inout Tensor, rhs: S) { lhs.update(.binary(.div), lhs.scalar(rhs)) }

    /// `self += a * b` in one pass, each element one fused multiply-add (see
    /// `addingProduct(_:_:)`): an optimizer's `parameter -= rate * velocity` without a
    /// temporary, as PyTorch's `addcmul_`.
    public mutating func addProduct(_ a: Tensor, _ b: Tensor) {
        self = Dispatch.run(.addingProduct, [self, a, b], into: self)
    }

    /// `self += a * b` for a Swift scalar `b`.
    public mutating func addProduct<S: TensorScalar>(_ a: Tensor, _ b: S) { addProduct(a, scalar(b)) }

    /// `self = self * factor + addend` in one pass, each element one fused multiply-add: a
    /// momentum buffer's `velocity = momentum * velocity + gradient` (PyTorch's
    /// `buf.mul_(momentum).add_(grad)`) without a second pass over it.
    public mutating func multiply(by factor: Tensor, adding addend: Tensor) {
        self = Dispatch.run(.addingProduct, [addend, self, factor], into: self)
    }

    /// `self = self * factor + addend` for a Swift scalar `factor`.
    public mutating func multiply<S: TensorScalar>(by factor: S, adding addend: Tensor) {
        multiply(by: scalar(factor), adding: addend)
    }

    private mutating func update(_ op: Op, _ rhs: Tensor) {
        if Dispatch.updateWithoutBookkeeping(op, self, rhs) { return }
        self = Dispatch.runWithBookkeeping(op, [self, rhs], into: self)
    }

    /// Writes `source` (broadcast to this shape, converted to this dtype) into these elements,
    /// as PyTorch's `copy_`. The source may be on another device only if it is the same device.
    public mutating func copy(from source: Tensor) {
        Dispatch.sameDevice("copy", self, source)
        self = Dispatch.run(.assign, [source], into: self)
    }

    /// Sets every element to zero.
    public mutating func zero() { fill(0) }

    /// Sets every element to `value` (converted to the dtype as `Tensor.full` converts it).
    public mutating func fill(_ value: Double) {
        let bits = Tensor.storedBits(value, dtype, op: "fill")
        self = Dispatch.run(.full(shape: shape, dtype: dtype, bits: bits, device: device), [], into: self)
    }
}
