import CPNG

/// Decodes PNG bytes to 8-bit grayscale pixels with libpng's simplified API (colour images
/// are converted to gray, transparency composed over black, as an MNIST digit's background).
public func decodePNGGrayscale(_ bytes: [UInt8], path: String) throws(TesselDataError) -> (pixels: [UInt8], rows: Int, columns: Int) {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard began != 0 else { throw .badImage(path: path, reason: "not a readable PNG (\(pngMessage(image)))") }
    defer { png_image_free(&image) }
    image.format = UInt32(PNG_FORMAT_GRAY)
    let rows = Int(image.height), columns = Int(image.width)
    guard rows > 0, columns > 0, rows * columns <= 16_777_216 else {
        throw .badImage(path: path, reason: "a PNG of \(columns)x\(rows) pixels is too large")
    }
    var pixels = [UInt8](repeating: 0, count: rows * columns)
    var black = png_color(red: 0, green: 0, blue: 0)
    let finished = bytes.withUnsafeBytes { _ in
        pixels.withUnsafeMutableBytes { png_image_finish_read(&image, &black, $0.baseAddress, Int32(columns), nil) }
    }
    guard finished != 0 else { throw .badImage(path: path, reason: "the PNG data is corrupt (\(pngMessage(image)))") }
    return (pixels, rows, columns)
}

private func pngMessage(_ image: png_image) -> String {
    withUnsafeBytes(of: image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
