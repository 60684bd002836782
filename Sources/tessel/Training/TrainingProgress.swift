import Foundation
import Tessel
import TesselData

/// What `tessel train` shows while it trains: a live bar on a terminal (batch i/n, loss,
/// samples/s, ETA), plain lines at each quarter of an epoch otherwise, and fastai's table of
/// epochs.
final class TrainingProgress {
    private let live: Bool
    private let epochs: Int
    private var lastDraw = Date.distantPast
    private var nextQuarter = 1
    private var samplesThisEpoch = 0

    init(epochs: Int, live: Bool = standardOutputIsTerminal) {
        self.epochs = epochs
        self.live = live
    }

    func header() {
        emit(row("epoch", "train_loss", "valid_loss", "accuracy", "time"))
    }

    func step(_ step: Learner.Step) {
        let done = step.batch + 1
        let last = done == step.batchCount
        samplesThisEpoch = step.batch == 0 ? step.samples : samplesThisEpoch + step.samples
        if live {
            // Reading the loss waits for the device: only when the line is redrawn (10 per second).
            guard last || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = Date()
            emit("\r\u{1B}[K" + line(step), terminator: "")
        } else {
            if step.batch == 0 { nextQuarter = 1 }
            guard done * 4 >= nextQuarter * step.batchCount, nextQuarter <= 3 else { return }
            nextQuarter += 1
            emit("  " + line(step))
        }
    }

    func epoch(_ record: Learner.EpochRecord) {
        if live { emit("\r\u{1B}[K", terminator: "") }
        emit(row(String(record.epoch), String(format: "%.6f", record.trainLoss), String(format: "%.6f", record.validLoss),
                 String(format: "%.6f", record.validAccuracy), clock(record.trainSeconds)))
    }

    private func line(_ step: Learner.Step) -> String {
        let done = step.batch + 1
        let width = 24, filled = width * done / step.batchCount
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = step.elapsed > 0 ? Double(samplesThisEpoch) / step.elapsed : 0
        let eta = done > 0 ? step.elapsed / Double(done) * Double(step.batchCount - done) : 0
        return "epoch \(step.epoch + 1)/\(epochs) [\(bar)] \(done)/\(step.batchCount)  loss \(String(format: "%.4f", step.loss.item()))  "
            + "\(Int(rate)) samples/s  ETA \(clock(eta))"
    }

    private func row(_ columns: String...) -> String {
        zip(columns, [6, 12, 12, 10, 6]).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}
