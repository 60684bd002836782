import CZlib

/// Decompresses a gzip stream with zlib (Foundation on Linux has no gzip).
///
/// `path` only names the file in errors.
func gunzip(_ compressed: [UInt8], path: String) throws(TesselDataError) -> [UInt8] {
    var stream = z_stream()
    // 15 + 16: a 32 KiB window and a gzip (not zlib) header.
    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw .corruptGzip(path: path, reason: "zlib could not start")
    }
    defer { inflateEnd(&stream) }
    // gzip's trailer holds the uncompressed size modulo 2^32: a good first guess, unless the
    // file is cut short (then those bytes are anything) - deflate never expands past 1032:1.
    var capacity = compressed.count * 4
    if compressed.count >= 18 {
        let tail = compressed.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        if tail > 0 { capacity = Swift.min(tail, compressed.count * 1032) }
    }
    var output = [UInt8](repeating: 0, count: Swift.max(capacity, 1024))
    var status: Int32 = Z_OK
    var produced = 0
    var message = ""
    compressed.withUnsafeBufferPointer { input in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = uInt(input.count)
        while status == Z_OK {
            if produced == output.count { output += [UInt8](repeating: 0, count: output.count) }
            output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = uInt(out.count - produced)
                status = inflate(&stream, Z_NO_FLUSH)
                produced = out.count - Int(stream.avail_out)
            }
            if status == Z_BUF_ERROR && stream.avail_in > 0 { status = Z_OK }
        }
        if let text = stream.msg { message = String(cString: text) }
    }
    switch status {
    case Z_STREAM_END:
        output.removeSubrange(produced...)
        return output
    case Z_BUF_ERROR:
        throw .corruptGzip(path: path, reason: "the stream ends early (truncated file)")
    default:
        throw .corruptGzip(path: path, reason: message.isEmpty ? "zlib status \(status)" : message)
    }
}
