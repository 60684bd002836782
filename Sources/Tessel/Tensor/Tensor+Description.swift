import Foundation

extension Tensor: CustomStringConvertible {
    /// PyTorch-style text: `tensor([[1., 2.], [3., 4.]], device: opencl:0)`; tensors of more than
    /// 1000 elements show the first and last three entries of each axis around `...`.
    public var description: String {
        if let failure = storage.failure { return "tensor(not computed: \(failure), shape: \(shape), dtype: \(dtype))" }
        // Exact for every dtype: Double holds every float32 and int32 value.
        let bits = Dispatch.download(self)
        let values: [Double] = bits.map { bits in
            switch dtype {
            case .float32: return Double(Float(bitPattern: bits))
            case .int32, .bool: return Double(Int32(bitPattern: bits))
            }
        }
        let elide = count > 1000
        let format = TensorFormat(values: values, dtype: dtype)
        var text = "tensor("
        let indent = String(repeating: " ", count: text.count)
        text += render(values, axis: 0, offset: 0, format: format, elide: elide, indent: indent + " ")
        var suffix: [String] = []
        if device != .cpu { suffix.append("device: \(device)") }
        if dtype != .float32 { suffix.append("dtype: \(dtype)") }
        if rank > 0 && count == 0 { suffix.append("shape: \(shape)") }
        if !suffix.isEmpty { text += ", " + suffix.joined(separator: ", ") }
        return text + ")"
    }

    private func render(_ values: [Double], axis: Int, offset: Int, format: TensorFormat, elide: Bool, indent: String) -> String {
        if axis == rank { return format.string(values[offset]) }
        let size = shape[axis]
        let step = shape[(axis + 1)...].reduce(1, *)
        let shown: [Int?] = elide && size > 6 ? [0, 1, 2, nil, size - 3, size - 2, size - 1] : (0..<size).map { $0 }
        let parts = shown.map { i in
            i.map { render(values, axis: axis + 1, offset: offset + $0 * step, format: format, elide: elide, indent: indent + " ") } ?? "..."
        }
        let separator = axis == rank - 1 ? ", " : "," + String(repeating: "\n", count: rank - axis - 1) + indent
        return "[" + parts.joined(separator: separator) + "]"
    }
}

/// How a tensor's elements are printed: integers plainly, floats as PyTorch does (`1.` for whole
/// numbers, 4 decimals otherwise, scientific for very large or small magnitudes).
private struct TensorFormat {
    let dtype: DType
    let wholeNumbers: Bool
    let scientific: Bool

    init(values: [Double], dtype: DType) {
        self.dtype = dtype
        let finite = values.filter { $0.isFinite }
        wholeNumbers = finite.allSatisfy { $0 == $0.rounded() }
        let magnitudes = finite.map { Swift.abs($0) }.filter { $0 > 0 }
        scientific = !wholeNumbers && ((magnitudes.max() ?? 0) >= 1e8 || (magnitudes.min() ?? 1) < 1e-4)
    }

    func string(_ value: Double) -> String {
        switch dtype {
        case .bool: return value != 0 ? "true" : "false"
        case .int32: return String(Int64(value))
        case .float32:
            if value.isNaN { return "nan" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            if scientific { return String(format: "%.4e", value) }
            if wholeNumbers { return String(format: "%.0f.", value) }
            return String(format: "%.4f", value)
        }
    }
}
