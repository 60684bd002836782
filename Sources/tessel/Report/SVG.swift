import Foundation

/// Small SVG pictures for the training report: line charts, a confusion matrix, digit images.
enum SVG {
    /// A line chart of `series` (name, colour, points as (x, y)), with axes, ticks and a legend;
    /// the x axis starts at `xFrom` or the smallest x.
    static func lineChart(title: String, xLabel: String, yLabel: String, series: [(name: String, color: String, points: [(Double, Double)])],
                          yRange: ClosedRange<Double>? = nil, xFrom: Double? = nil, width: Double = 640, height: Double = 360) -> String {
        let left = 64.0, right = 20.0, top = 36.0, bottom = 48.0
        let all = series.flatMap(\.points).filter { $0.1.isFinite }
        let xs = all.map(\.0), ys = all.map(\.1)
        let xMin = Swift.min(xs.min() ?? 0, xFrom ?? .infinity), xMax = Swift.max(xs.max() ?? 1, xMin + 1e-9)
        var (yMin, yMax) = yRange.map { ($0.lowerBound, $0.upperBound) } ?? (ys.min() ?? 0, ys.max() ?? 1)
        if yMax - yMin < 1e-9 { yMax = yMin + 1 }
        if yRange == nil { yMin = Swift.min(yMin, 0) }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        var svg = header(width: width, height: height)
        svg += text(title, x: width / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
        for tick in 0...4 {
            let y = yMin + (yMax - yMin) * Double(tick) / 4
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(y)))\" stroke=\"#e5e5e5\"/>\n"
            svg += text(String(format: "%.3g", y), x: left - 6, y: py(y) + 4, size: 11, anchor: "end")
            let x = xMin + (xMax - xMin) * Double(tick) / 4
            svg += text(String(format: "%.3g", x), x: px(x), y: height - bottom + 16, size: 11, anchor: "middle")
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#888\"/>\n"
        svg += text(xLabel, x: left + plotWidth / 2, y: height - 10, size: 12, anchor: "middle")
        svg += "<text x=\"14\" y=\"\(f(top + plotHeight / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
        for (index, line) in series.enumerated() {
            let points = line.points.filter { $0.1.isFinite }.map { "\(f(px($0.0))),\(f(py(Swift.min(Swift.max($0.1, yMin), yMax))))" }
            if points.count == 1 {
                let xy = points[0].split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"4\" fill=\"\(line.color)\"/>\n"
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.6\" points=\"\(points.joined(separator: " "))\"/>\n"
            }
            let legendY = top + 14 + 16 * Double(index)
            svg += "<line x1=\"\(f(width - right - 150))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(width - right - 130))\" y2=\"\(f(legendY - 4))\" stroke=\"\(line.color)\" stroke-width=\"3\"/>\n"
            svg += text(line.name, x: width - right - 124, y: legendY, size: 12, anchor: "start")
        }
        return svg + "</svg>\n"
    }

    /// counts[label][prediction] as a grid shaded by each row's share, with the counts written in.
    static func confusionMatrix(_ counts: [[Int]], classNames: [String]) -> String {
        let cell = Swift.max(28.0, Swift.min(48.0, 480.0 / Double(Swift.max(classNames.count, 1))))
        let left = 70.0, top = 60.0
        let side = cell * Double(classNames.count)
        var svg = header(width: left + side + 20, height: top + side + 20)
        svg += text("confusion matrix (rows: label, columns: prediction)", x: (left + side + 20) / 2, y: 20, size: 14, anchor: "middle", weight: "bold")
        for (column, name) in classNames.enumerated() {
            svg += text(name, x: left + cell * (Double(column) + 0.5), y: top - 8, size: 12, anchor: "middle")
        }
        for (row, counts) in counts.enumerated() {
            let total = Swift.max(counts.reduce(0, +), 1)
            svg += text(classNames[row], x: left - 8, y: top + cell * (Double(row) + 0.5) + 4, size: 12, anchor: "end")
            for (column, count) in counts.enumerated() {
                let share = Double(count) / Double(total)
                let color = row == column ? "rgba(30,110,200,\(f(0.15 + 0.85 * share)))" : "rgba(220,60,40,\(f(count == 0 ? 0 : 0.15 + 0.85 * Swift.min(1, share * 8))))"
                let x = left + cell * Double(column), y = top + cell * Double(row)
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(color)\" stroke=\"#fff\"/>\n"
                svg += text(String(count), x: x + cell / 2, y: y + cell / 2 + 4, size: cell < 36 ? 9 : 11, anchor: "middle")
            }
        }
        return svg + "</svg>\n"
    }

    /// Grayscale images (bytes, white on black as MNIST stores them, drawn dark on light) in a
    /// grid, each with its caption lines.
    static func imageGrid(_ images: [(pixels: ArraySlice<UInt8>, caption: [String])], rows: Int, columns: Int, perRow: Int = 5) -> String {
        let scale = 4.0, pad = 12.0
        let tileWidth = Double(columns) * scale + pad * 2, tileHeight = Double(rows) * scale + 52
        let gridRows = (images.count + perRow - 1) / perRow
        var svg = header(width: tileWidth * Double(Swift.min(perRow, Swift.max(images.count, 1))), height: tileHeight * Double(Swift.max(gridRows, 1)))
        for (index, image) in images.enumerated() {
            let x0 = tileWidth * Double(index % perRow) + pad, y0 = tileHeight * Double(index / perRow) + 6
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(Double(columns) * scale))\" height=\"\(f(Double(rows) * scale))\" fill=\"#fff\" stroke=\"#ccc\"/>\n"
            for (offset, value) in image.pixels.enumerated() where value > 0 {
                let shade = 255 - Int(value)
                svg += "<rect x=\"\(f(x0 + Double(offset % columns) * scale))\" y=\"\(f(y0 + Double(offset / columns) * scale))\" width=\"\(f(scale))\" height=\"\(f(scale))\" fill=\"rgb(\(shade),\(shade),\(shade))\"/>"
            }
            svg += "\n"
            for (line, caption) in image.caption.enumerated() {
                svg += text(caption, x: x0 + Double(columns) * scale / 2, y: y0 + Double(rows) * scale + 16 + 14 * Double(line), size: 11, anchor: "middle")
            }
        }
        return svg + "</svg>\n"
    }

    private static func header(width: Double, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    }

    private static func text(_ content: String, x: Double, y: Double, size: Int, anchor: String, weight: String = "normal") -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\">\(escape(content))</text>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
