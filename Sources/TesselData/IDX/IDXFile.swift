/// An IDX file (the format MNIST ships in): unsigned bytes with their dimensions.
///
/// Reads plain files and gzipped ones (named `.gz`, or starting with gzip's magic bytes).
public struct IDXFile: Sendable {
    /// The dimensions from the header, outermost first: [N, rows, columns] for images, [N] for labels.
    public let dimensions: [Int]
    /// The body, one byte per element, row-major.
    public let bytes: [UInt8]

    /// Reads and validates the file at `path`.
    public init(contentsOf path: String) throws(TesselDataError) {
        var raw = try readFileBytes(path)
        if raw.starts(with: [0x1f, 0x8b]) { raw = try gunzip(raw, path: path) }
        try self.init(parsing: raw, path: path)
    }

    /// Parses IDX bytes (`path` names the source in errors).
    public init(parsing raw: [UInt8], path: String) throws(TesselDataError) {
        guard raw.count >= 4, raw[0] == 0, raw[1] == 0, raw[3] >= 1 else {
            throw .badMagic(path: path, found: Array(raw.prefix(4)))
        }
        guard raw[2] == 0x08 else { throw .unsupportedIDXType(path: path, code: raw[2]) }
        let rank = Int(raw[3])
        let headerSize = 4 + 4 * rank
        guard raw.count >= headerSize else { throw .truncated(path: path, expectedBytes: headerSize, foundBytes: raw.count) }
        var dimensions: [Int] = []
        for axis in 0..<rank {
            let start = 4 + 4 * axis
            dimensions.append(raw[start..<start + 4].reduce(0) { $0 << 8 | Int($1) })
        }
        let expected = dimensions.reduce(1, *)
        let found = raw.count - headerSize
        guard found == expected else { throw .truncated(path: path, expectedBytes: expected, foundBytes: found) }
        self.dimensions = dimensions
        bytes = Array(raw[headerSize...])
    }

    /// The IDX encoding of `bytes` with `dimensions` (for tests and tools that write datasets).
    public static func encode(_ bytes: [UInt8], dimensions: [Int]) -> [UInt8] {
        var header: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for dimension in dimensions {
            header += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
        }
        return header + bytes
    }
}
