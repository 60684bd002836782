/// The element type of a tensor.
///
/// Every dtype is stored in 4 bytes, so one set of copy, gather and select kernels serves them all.
/// `bool` holds 0 or 1 in a 32-bit integer slot: masks cost as much memory as `int32`, in exchange
/// for kernels that never need a byte-sized variant.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE float: the dtype of all arithmetic on activations and weights.
    case float32
    /// 32-bit signed integer: labels, indices, counts.
    case int32
    /// Boolean mask, stored as a 32-bit 0 or 1.
    case bool

    /// Bytes per element (always 4; see the type's documentation).
    public var byteSize: Int { 4 }

    public var description: String { rawValue }

    /// The dtype arithmetic between `self` and `other` produces (float wins; bool counts as int).
    func promoted(with other: DType) -> DType {
        (self == .float32 || other == .float32) ? .float32 : .int32
    }
}
