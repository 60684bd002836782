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
        if let values = plainPixelArray(body) { return try checked(values, rows: rows, columns: columns) }
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

    /// The common body, `{"pixels": [numbers]}` and nothing else, read in one pass: JSONDecoder
    /// took most of the server's time on it. Anything else (other keys, strings, nesting, a
    /// malformed number) returns nil and goes through JSONDecoder, which decides.
    static func plainPixelArray(_ body: [UInt8]) -> [Double]? {
        var i = 0
        func skipSpace() { while i < body.count, body[i] == 0x20 || body[i] == 0x0A || body[i] == 0x0D || body[i] == 0x09 { i += 1 } }
        func expect(_ bytes: [UInt8]) -> Bool {
            skipSpace()
            guard body.count - i >= bytes.count, body[i..<(i + bytes.count)].elementsEqual(bytes) else { return false }
            i += bytes.count
            return true
        }
        guard expect([0x7B]), expect(Array("\"pixels\"".utf8)), expect([0x3A]), expect([0x5B]) else { return nil }
        var values: [Double] = []
        values.reserveCapacity(1024)
        skipSpace()
        if i < body.count, body[i] == 0x5D {
            i += 1
        } else {
            while true {
                skipSpace()
                let start = i
                var whole = 0, digits = 0, plain = true
                while i < body.count, body[i] >= 0x30 && body[i] <= 0x39 {
                    whole = whole &* 10 &+ Int(body[i] - 0x30)
                    digits += 1
                    i += 1
                }
                // Signs, fractions and exponents: the rest of the token through Double's parser.
                while i < body.count, [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(body[i]) || (body[i] >= 0x30 && body[i] <= 0x39) {
                    plain = false
                    i += 1
                }
                guard i > start else { return nil }
                if plain && digits <= 15 {
                    values.append(Double(whole))
                } else {
                    guard let value = Double(String(decoding: body[start..<i], as: UTF8.self)), value.isFinite else { return nil }
                    values.append(value)
                }
                skipSpace()
                guard i < body.count else { return nil }
                if body[i] == 0x2C { i += 1; continue }
                if body[i] == 0x5D { i += 1; break }
                return nil
            }
        }
        guard expect([0x7D]) else { return nil }
        skipSpace()
        return i == body.count ? values : nil
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
