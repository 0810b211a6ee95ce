import Foundation
import MNISTSoftmax

/// What `train` prints on standard output: a table, or JSON Lines with `--json`.
struct TrainingReport {
    let json: Bool
    let optimizer: Optimizer

    func begin() {
        guard !json else { return }
        switch optimizer {
        case .sgd: print("epoch      loss  train acc    val acc  learning rate  seconds")
        case .lbfgs: print(" iter      loss  train acc    val acc    line step  seconds")
        }
    }

    func epoch(_ summary: EpochSummary) {
        if json {
            emit(["type": optimizer == .sgd ? "epoch" : "iteration", optimizer == .sgd ? "epoch" : "iteration": summary.epochOrIteration,
                  "loss": summary.trainingLoss,
                  "train_accuracy": summary.trainingAccuracy,
                  "validation_accuracy": summary.validation?.accuracy ?? NSNull(),
                  "validation_loss": summary.validation?.meanLoss ?? NSNull(),
                  optimizer == .sgd ? "learning_rate" : "step": summary.stepSize, "seconds": summary.seconds,
                  "kernel_flop": summary.kernelFLOP, "threads": summary.threads,
                  "barrier_wait_seconds": summary.barrierWaitSeconds, "tasks_taken_over": summary.tasksTakenOver])
        } else {
            print(rightAligned(String(summary.epochOrIteration), 5),
                  rightAligned(String(format: "%.4f", summary.trainingLoss), 9),
                  rightAligned(percent(summary.trainingAccuracy), 10),
                  rightAligned(summary.validation.map { percent($0.accuracy) } ?? "—", 10),
                  rightAligned(String(format: "%.5g", summary.stepSize), 14),
                  rightAligned(String(format: "%.3f", summary.seconds), 8))
        }
    }

    func summary(_ evaluation: Evaluation, trainingSeconds: Double, epochsRun: Int, modelPath: String) {
        if json {
            emit(["type": "summary", "test_accuracy": evaluation.accuracy, "test_loss": evaluation.meanLoss,
                  "test_count": evaluation.count, "training_seconds": trainingSeconds, "model": modelPath,
                  optimizer == .sgd ? "epochs" : "iterations": epochsRun])
        } else {
            print("test accuracy \(percent(evaluation.accuracy)) (\(evaluation.count) images), "
                + "mean loss \(String(format: "%.4f", evaluation.meanLoss)); trained in \(String(format: "%.2f", trainingSeconds)) s")
        }
    }

    /// The `--metrics-csv` file: a header row, then one row per epoch; an epoch without
    /// validation leaves its validation cells empty.
    static func csv(_ epochs: [EpochSummary]) -> String {
        var lines = ["epoch,loss,train_accuracy,validation_accuracy,validation_loss,learning_rate,seconds"]
        for summary in epochs {
            let cells: [String] = [
                String(summary.epochOrIteration), String(summary.trainingLoss), String(summary.trainingAccuracy),
                summary.validation.map { String($0.accuracy) } ?? "", summary.validation.map { String($0.meanLoss) } ?? "",
                String(summary.stepSize), String(summary.seconds),
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object on one line, keys sorted; nil values are written as null.
    private func emit(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}
