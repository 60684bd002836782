import Foundation
import TesselData

/// The report `tessel train` writes beside the model: loss and accuracy curves (per batch and
/// per epoch), the confusion matrix and the top losses as SVG, tied together by `index.html`.
struct TrainingReport {
    let spec: ModelSpec
    let records: [Learner.EpochRecord]
    let evaluation: Evaluation
    let valid: LabeledImages
    let device: String

    /// Writes `MODEL-report/` next to `modelPath` and returns the page's path.
    func write(besideModel modelPath: String) throws -> String {
        let folder = String(modelPath.dropLast(".safetensors".count)) + "-report"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files = [
            "loss.svg": lossChart, "accuracy.svg": accuracyChart,
            "confusion.svg": SVG.confusionMatrix(evaluation.confusionMatrix, classNames: spec.classNames),
            "top-losses.svg": topLosses, "index.html": page(modelName: URL(fileURLWithPath: modelPath).lastPathComponent),
        ]
        for (name, content) in files {
            try content.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        return folder + "/index.html"
    }

    private var lossChart: String {
        var batchPoints: [(Double, Double)] = []
        for record in records {
            let count = Double(record.batchLosses.count)
            for (index, loss) in record.batchLosses.enumerated() { batchPoints.append((Double(record.epoch) + Double(index + 1) / count, Double(loss))) }
        }
        return SVG.lineChart(title: "loss", xLabel: "epoch", yLabel: "loss", series: [
            ("train (per batch)", "#9bbbe0", batchPoints),
            ("train (epoch mean)", "#1f5fa8", records.map { (Double($0.epoch + 1), $0.trainLoss) }),
            ("valid", "#d9531e", records.map { (Double($0.epoch + 1), $0.validLoss) }),
        ], xFrom: 0)
    }

    private var accuracyChart: String {
        let lowest = records.map(\.validAccuracy).min() ?? 0
        return SVG.lineChart(title: "validation accuracy", xLabel: "epoch", yLabel: "accuracy",
                             series: [("valid accuracy", "#2a9d4b", records.map { (Double($0.epoch + 1), $0.validAccuracy) })],
                             yRange: Swift.max(0, Swift.min(lowest, 0.9) - 0.02)...1)
    }

    private var topLosses: String {
        let worst = evaluation.topLosses(15)
        return SVG.imageGrid(worst.map { example in
            (valid.image(example.index), ["label \(spec.classNames[example.label]), predicted \(spec.classNames[example.prediction])",
                                          String(format: "loss %.2f, p %.2f", example.loss, example.confidence)])
        }, rows: valid.rows, columns: valid.columns)
    }

    private func page(modelName: String) -> String {
        let rows = records.map { record in
            "<tr><td>\(record.epoch)</td><td>\(String(format: "%.6f", record.trainLoss))</td><td>\(String(format: "%.6f", record.validLoss))</td>"
                + "<td>\(String(format: "%.6f", record.validAccuracy))</td><td>\(clock(record.trainSeconds))</td></tr>"
        }.joined(separator: "\n")
        let perClass = zip(spec.classNames, evaluation.perClassAccuracy).map { "<tr><td>\(SVG.escape($0))</td><td>\(percent($1))</td></tr>" }
            .joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Tessel: \(SVG.escape(modelName))</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
            table { border-collapse: collapse; margin: 8px 0 20px; } td, th { padding: 3px 12px; border-bottom: 1px solid #ddd; text-align: right; }
            .charts { display: flex; flex-wrap: wrap; gap: 16px; } img { border: 1px solid #ddd; }
            </style></head><body>
            <h1>\(SVG.escape(modelName))</h1>
            <p>\(spec.architecture.rawValue) model trained on \(SVG.escape(device)); \(valid.count) validation images;
            final accuracy <b>\(percent(evaluation.accuracy))</b>.</p>
            <table><tr><th>epoch</th><th>train_loss</th><th>valid_loss</th><th>accuracy</th><th>time</th></tr>
            \(rows)
            </table>
            <div class="charts"><img src="loss.svg" alt="loss curves"><img src="accuracy.svg" alt="accuracy curve"></div>
            <h2>Per class</h2>
            <div class="charts"><table><tr><th>class</th><th>accuracy</th></tr>
            \(perClass)
            </table><img src="confusion.svg" alt="confusion matrix"></div>
            <h2>Top losses</h2>
            <p>The validation images the model is most confidently wrong about.</p>
            <img src="top-losses.svg" alt="top losses">
            </body></html>

            """
    }
}
