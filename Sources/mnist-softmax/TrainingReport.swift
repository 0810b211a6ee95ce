import FoundationEssentials
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
            emit(EpochLine(optimizer: optimizer, summary: summary))
        } else {
            print(
                rightAligned(String(summary.epochOrIteration), 5),
                rightAligned(formatted("%.4f", summary.trainingLoss), 9),
                rightAligned(percent(summary.trainingAccuracy), 10),
                rightAligned(summary.validation.map { percent($0.accuracy) } ?? "—", 10),
                rightAligned(formatted("%.5g", summary.stepSize), 14),
                rightAligned(formatted("%.3f", summary.seconds), 8))
        }
    }

    func summary(_ evaluation: Evaluation, trainingSeconds: Double, epochsRun: Int, modelPath: String) {
        if json {
            emit(
                SummaryLine(
                    optimizer: optimizer, evaluation: evaluation, trainingSeconds: trainingSeconds, runs: epochsRun,
                    model: modelPath))
        } else {
            print(
                "test accuracy \(percent(evaluation.accuracy)) (\(evaluation.count) images), "
                    + "mean loss \(formatted("%.4f", evaluation.meanLoss)); trained in \(formatted("%.2f", trainingSeconds)) s"
            )
        }
    }

    /// The `--metrics-csv` file: a header row, then one row per epoch; an epoch without
    /// validation leaves its validation cells empty.
    static func csv(_ epochs: [EpochSummary]) -> String {
        var lines = ["epoch,loss,train_accuracy,validation_accuracy,validation_loss,learning_rate,seconds"]
        for summary in epochs {
            let cells: [String] = [
                String(summary.epochOrIteration), String(summary.trainingLoss), String(summary.trainingAccuracy),
                summary.validation.map { String($0.accuracy) } ?? "",
                summary.validation.map { String($0.meanLoss) } ?? "",
                String(summary.stepSize), String(summary.seconds),
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object on one line, keys sorted.
    private func emit(_ line: some Encodable) {
        print(try! JSONCoding.string(line))
    }
}

/// The `train --json` line of one SGD epoch or L-BFGS iteration. The optimizer names the
/// counter (`epoch` or `iteration`) and the step (`learning_rate` or `step`); the validation
/// fields are null when training has no validation split.
private struct EpochLine: Encodable {
    let optimizer: Optimizer
    let summary: EpochSummary

    enum CodingKeys: CodingKey {
        case type, epoch, iteration, loss, trainAccuracy, validationAccuracy, validationLoss, learningRate, step,
            seconds
        case kernelFlop, threads, barrierWaitSeconds, tasksTakenOver
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let counter: CodingKeys = optimizer == .sgd ? .epoch : .iteration
        try container.encode(counter.stringValue, forKey: .type)
        try container.encode(summary.epochOrIteration, forKey: counter)
        try container.encode(summary.trainingLoss, forKey: .loss)
        try container.encode(summary.trainingAccuracy, forKey: .trainAccuracy)
        try container.encode(summary.validation?.accuracy, forKey: .validationAccuracy)
        try container.encode(summary.validation?.meanLoss, forKey: .validationLoss)
        try container.encode(summary.stepSize, forKey: optimizer == .sgd ? .learningRate : .step)
        try container.encode(summary.seconds, forKey: .seconds)
        try container.encode(summary.kernelFLOP, forKey: .kernelFlop)
        try container.encode(summary.threads, forKey: .threads)
        try container.encode(summary.barrierWaitSeconds, forKey: .barrierWaitSeconds)
        try container.encode(summary.tasksTakenOver, forKey: .tasksTakenOver)
    }
}

/// The last `train --json` line: the test set's figures, the time, and how many epochs (SGD) or
/// iterations (L-BFGS) ran.
private struct SummaryLine: Encodable {
    let optimizer: Optimizer
    let evaluation: Evaluation
    let trainingSeconds: Double
    let runs: Int
    let model: String

    enum CodingKeys: CodingKey {
        case type, testAccuracy, testLoss, testCount, trainingSeconds, model, epochs, iterations
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("summary", forKey: .type)
        try container.encode(evaluation.accuracy, forKey: .testAccuracy)
        try container.encode(evaluation.meanLoss, forKey: .testLoss)
        try container.encode(evaluation.count, forKey: .testCount)
        try container.encode(trainingSeconds, forKey: .trainingSeconds)
        try container.encode(model, forKey: .model)
        try container.encode(runs, forKey: optimizer == .sgd ? .epochs : .iterations)
    }
}
