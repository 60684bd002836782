/// Errors from data that comes from outside the program: dataset files, model files, images.
///
/// Each prints as one line that names the file and what is wrong with it, so a command-line tool
/// can show it as it is and exit.
public enum TesselDataError: Error, CustomStringConvertible, Equatable {
    /// No file at `path` (for a dataset folder, `tried` lists the names looked for).
    case fileNotFound(path: String, tried: [String] = [])
    /// The file exists but could not be read (permissions, a folder, an I/O error).
    case unreadable(path: String, reason: String)
    /// A `.gz` file whose gzip stream is corrupt or cut short.
    case corruptGzip(path: String, reason: String)
    /// An IDX file whose first bytes are not an IDX magic number.
    case badMagic(path: String, found: [UInt8])
    /// An IDX element type other than unsigned bytes (type code 0x08).
    case unsupportedIDXType(path: String, code: UInt8)
    /// A body shorter or longer than its header's dimensions say.
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    /// A file of the wrong rank or shape for its role (images [N, rows, columns], labels [N]).
    case wrongDimensions(path: String, dimensions: [Int], expected: String)
    /// Image and label files that disagree on the number of examples.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A model file that is not a valid safetensors file (header, offsets, dtypes, metadata).
    case invalidModelFile(path: String, reason: String)
    /// A model file that does not fit the architecture it names (missing, extra, wrongly shaped tensors).
    case modelMismatch(path: String, reason: String)
    /// An image that could not be decoded or has the wrong size.
    case badImage(path: String, reason: String)
    /// A file that could not be written.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path, let tried):
            return tried.isEmpty ? "\(path): no such file" : "\(path): none of \(tried.joined(separator: ", ")) found"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .corruptGzip(let path, let reason): return "\(path): corrupt gzip data: \(reason)"
        case .badMagic(let path, let found):
            let bytes = found.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
            return "\(path): not an IDX file (magic bytes \(bytes), expected 00 00 08 0N)"
        case .unsupportedIDXType(let path, let code):
            return "\(path): IDX element type 0x\(String(code, radix: 16).leftPadded(to: 2)) is not supported (only unsigned bytes, 0x08)"
        case .truncated(let path, let expected, let found):
            return found < expected
                ? "\(path): truncated: the header promises \(expected) bytes of data, the file holds \(found)"
                : "\(path): \(found - expected) bytes past the \(expected) the header promises"
        case .wrongDimensions(let path, let dimensions, let expected):
            return "\(path): dimensions \(dimensions), expected \(expected)"
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(images) holds \(imageCount) images but \(labels) holds \(labelCount) labels"
        case .invalidModelFile(let path, let reason): return "\(path): not a valid model file: \(reason)"
        case .modelMismatch(let path, let reason): return "\(path): \(reason)"
        case .badImage(let path, let reason): return "\(path): \(reason)"
        case .unwritable(let path, let reason): return "\(path): cannot write: \(reason)"
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
