import Foundation
import Tessel

/// A `.safetensors` file: named tensors and a string-to-string `__metadata__` map.
///
/// Layout (the format's spec): an 8-byte little-endian header length N, N bytes of JSON mapping
/// each name to `{"dtype", "shape", "data_offsets": [begin, end]}`, then the data, little-endian,
/// row-major, the tensors packed without gaps. Reading checks every part of that and reports
/// the first problem in one line.
public struct SafeTensors: Sendable {
    /// A tensor's entry: its dtype, shape and bytes.
    public struct Entry: Sendable, Equatable {
        /// The format's dtype name: "F32", "I32", "I64" (read as int32), "F64" (read as float32).
        public let dtype: String
        public let shape: [Int]
        public let data: [UInt8]
    }

    /// The tensors by name, in file order.
    public private(set) var entries: [(name: String, entry: Entry)]
    public var metadata: [String: String]

    /// The format's limit on the JSON header (100 MB, as the reference implementation).
    public static let maximumHeaderSize = 100_000_000

    private static let itemSizes = ["F32": 4, "I32": 4, "I64": 8, "F64": 8]

    /// An empty file with `metadata`; add tensors with ``append(_:_:)``.
    public init(metadata: [String: String] = [:]) {
        entries = []
        self.metadata = metadata
    }

    /// Adds `tensor` (float32 as F32, int32 and bool as I32) under `name`.
    public mutating func append(_ name: String, _ tensor: Tensor) {
        if entries.contains(where: { $0.name == name }) { fatalError("SafeTensors.append: the name '\(name)' is already used") }
        let bits: [UInt32] = tensor.dtype == .float32 ? tensor.scalars(as: Float.self).map(\.bitPattern)
                                                      : tensor.scalars(as: Int32.self).map { UInt32(bitPattern: $0) }
        var data = [UInt8](repeating: 0, count: bits.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (index, value) in bits.enumerated() { raw.storeBytes(of: value.littleEndian, toByteOffset: index * 4, as: UInt32.self) }
        }
        entries.append((name, Entry(dtype: tensor.dtype == .float32 ? "F32" : "I32", shape: tensor.shape, data: data)))
    }

    /// The entry called `name`.
    public subscript(name: String) -> Entry? { entries.first { $0.name == name }?.entry }

    /// Entry `name` as a tensor on `device` (F32/F64 as float32, I32/I64 as int32).
    public func tensor(_ name: String, device: Device = .default) -> Tensor? {
        guard let entry = self[name] else { return nil }
        let count = entry.shape.reduce(1, *)
        return entry.data.withUnsafeBytes { raw -> Tensor in
            switch entry.dtype {
            case "F32": return try! Tensor((0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }, shape: entry.shape, device: device)
            case "F64": return try! Tensor((0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }, shape: entry.shape, device: device)
            case "I32": return try! Tensor((0..<count).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }, shape: entry.shape, device: device)
            default: return try! Tensor((0..<count).map { Int32(truncatingIfNeeded: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }, shape: entry.shape, device: device)
            }
        }
    }

    /// The file's bytes: the header padded with spaces to a multiple of 8 (so the data is aligned).
    public func encoded() -> [UInt8] {
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{" + metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",") + "},"
        }
        var offset = 0
        header += entries.map { name, entry in
            defer { offset += entry.data.count }
            return "\(jsonString(name)):{\"dtype\":\"\(entry.dtype)\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + entry.data.count)]}"
        }.joined(separator: ",")
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        let length = UInt64(headerBytes.count)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        bytes += headerBytes
        for (_, entry) in entries { bytes += entry.data }
        return bytes
    }

    /// Writes the file (atomically).
    public func write(to path: String) throws(TesselDataError) { try writeFileBytes(encoded(), to: path) }

    /// Reads and validates the file at `path`.
    public init(contentsOf path: String) throws(TesselDataError) {
        try self.init(parsing: try readFileBytes(path), path: path)
    }

    /// Parses and validates safetensors bytes (`path` names the source in errors).
    public init(parsing bytes: [UInt8], path: String) throws(TesselDataError) {
        func invalid(_ reason: String) -> TesselDataError { .invalidModelFile(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw invalid("\(bytes.count) bytes, shorter than the 8-byte header length") }
        let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(SafeTensors.maximumHeaderSize) else {
            throw invalid("a header of \(length) bytes is over the format's limit of \(SafeTensors.maximumHeaderSize)")
        }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else { throw invalid("truncated: the header needs \(length) bytes, the file holds \(bytes.count - 8) after its length") }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])), let header = json as? [String: Any] else {
            throw invalid("the header is not a JSON object")
        }
        let data = bytes[headerEnd...]
        var metadata: [String: String] = [:]
        var found: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any], let strings = map as? [String: String] else {
                    throw invalid("__metadata__ must map strings to strings")
                }
                metadata = strings
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = (fields["shape"] as? [Any])?.compactMap(SafeTensors.integer), shape.count == (fields["shape"] as? [Any])?.count,
                  let offsets = (fields["data_offsets"] as? [Any])?.compactMap(SafeTensors.integer), offsets.count == 2 else {
                throw invalid("tensor '\(name)' needs a dtype, a shape and two data_offsets")
            }
            guard let itemSize = SafeTensors.itemSizes[dtype] else {
                throw invalid("tensor '\(name)' has dtype \(dtype) (supported: F32, F64, I32, I64)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw invalid("tensor '\(name)' has a negative dimension or reversed offsets")
            }
            let (elements, overflow) = shape.reduce((1, false)) { partial, next in
                let (product, over) = partial.0.multipliedReportingOverflow(by: next)
                return (product, partial.1 || over)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: itemSize).partialValue == offsets[1] - offsets[0] else {
                throw invalid("tensor '\(name)' of shape \(shape) and dtype \(dtype) cannot fill data_offsets \(offsets)")
            }
            guard offsets[1] <= data.count else {
                throw invalid("truncated: tensor '\(name)' ends at byte \(offsets[1]) of the data, the file holds \(data.count)")
            }
            found.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        found.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for tensor in found {
            guard tensor.begin == expected else {
                throw invalid("tensor '\(tensor.name)' starts at byte \(tensor.begin) of the data, expected \(expected) (tensors must be packed without gaps or overlap)")
            }
            expected = tensor.end
        }
        guard expected == data.count else { throw invalid("\(data.count - expected) bytes after the last tensor") }
        self.metadata = metadata
        entries = found.map { tensor in
            (tensor.name, Entry(dtype: tensor.dtype, shape: tensor.shape,
                                data: Array(data[data.startIndex + tensor.begin..<data.startIndex + tensor.end])))
        }
    }

    /// A JSON number that is an exact integer (Foundation refuses 2.5 as an `Int`).
    private static func integer(_ value: Any) -> Int? { value as? Int }
}

private func jsonString(_ text: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
