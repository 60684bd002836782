import Foundation
import TesselData

/// One image's pixels (0...255) from a request body: JSON `{"pixels": [...]}` (values 0...255, or
/// 0...1 when none exceeds 1), a PNG, or raw bytes, checked against the model's size.
enum ImageInput {
    static func pixels(body: [UInt8], contentType: String?, rows: Int, columns: Int) throws(ServeError) -> [Float] {
        guard !body.isEmpty else { throw .badInput("empty body: send {\"pixels\": [...]}, a PNG or \(rows * columns) raw bytes") }
        let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if body.starts(with: [0x89, 0x50, 0x4E, 0x47]) || type == "image/png" {
            let image: (pixels: [UInt8], rows: Int, columns: Int)
            do {
                image = try decodePNGGrayscale(body, path: "the PNG")
            } catch {
                throw .badInput("\(error)")
            }
            guard image.rows == rows, image.columns == columns else {
                throw .badInput("the PNG is \(image.columns)x\(image.rows), the model takes \(columns)x\(rows)")
            }
            return image.pixels.map(Float.init)
        }
        if type == "application/octet-stream" {
            guard body.count == rows * columns else { throw .badInput("\(body.count) raw bytes, the model takes \(rows * columns) (\(columns)x\(rows))") }
            return body.map(Float.init)
        }
        guard let request = try? JSONDecoder().decode(PixelsBody.self, from: Data(body)) else {
            throw .badInput("expected a JSON object {\"pixels\": [numbers]} (or a PNG, or raw bytes as application/octet-stream)")
        }
        return try checked(request.pixels, rows: rows, columns: columns)
    }

    /// Several images: `{"images": [[...], ...]}` (each as `pixels` above).
    static func batch(body: [UInt8], rows: Int, columns: Int) throws(ServeError) -> [[Float]] {
        guard let request = try? JSONDecoder().decode(ImagesBody.self, from: Data(body)) else {
            throw .badInput("expected a JSON object {\"images\": [[numbers], ...]}")
        }
        guard !request.images.isEmpty else { throw .badInput("no images in the batch") }
        var result: [[Float]] = []
        for (index, image) in request.images.enumerated() {
            do {
                result.append(try checked(image, rows: rows, columns: columns))
            } catch {
                throw .badInput("image \(index): \(error)")
            }
        }
        return result
    }

    private struct PixelsBody: Decodable { let pixels: [Double] }
    private struct ImagesBody: Decodable { let images: [[Double]] }

    private static func checked(_ list: [Double], rows: Int, columns: Int) throws(ServeError) -> [Float] {
        guard list.count == rows * columns else { throw .badInput("\(list.count) pixels, the model takes \(rows * columns) (\(columns)x\(rows))") }
        guard let bad = list.first(where: { !($0.isFinite && $0 >= 0 && $0 <= 255) }) else {
            // All values within 0...1: the 0...1 convention (a 255 never appears there).
            let scale: Double = list.allSatisfy { $0 <= 1 } ? 255 : 1
            return list.map { Float($0 * scale) }
        }
        throw .badInput("pixel values must be finite and in 0...255, got \(bad)")
    }
}
