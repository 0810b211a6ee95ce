import ArgumentParser
import FoundationEssentials
import MNISTSoftmax

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model: accuracy, mean loss, confusion matrix, per-class metrics.",
        discussion: "Uses the 10,000 MNIST test images unless --images and --labels name another IDX pair.")

    @OptionGroup var data: DataOptions

    @OptionGroup var modelPath: ModelPathOption

    @Option(
        help: ArgumentHelp("IDX image file to evaluate on instead of the test set (needs --labels).", valueName: "file")
    )
    var images: String?

    @Option(help: ArgumentHelp("IDX label file paired with --images.", valueName: "file"))
    var labels: String?

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Draw the confusion matrix as a PNG heatmap: cells shaded by row-normalised rate, counts written in.",
            valueName: "file"))
    var confusionPng: String?

    @Option(
        help: ArgumentHelp(
            "Draw the most confidently misclassified images as a PNG montage, labelled true→predicted with the probability.",
            valueName: "file"))
    var errorsPng: String?

    @Option(
        help: ArgumentHelp(
            "How many misclassified images --errors-png shows (1 to \(Self.errorLimitRange.upperBound)).",
            valueName: "n"))
    var errorCount: Int = 24

    static let errorLimitRange = 1 ... 120

    func validate() throws {
        guard (images == nil) == (labels == nil) else {
            throw ValidationError("--images and --labels go together: give both or neither")
        }
        guard Self.errorLimitRange.contains(errorCount) else {
            throw ValidationError("--error-count must be between 1 and \(Self.errorLimitRange.upperBound)")
        }
        guard confusionPng == nil || confusionPng != errorsPng else {
            throw ValidationError("--confusion-png and --errors-png name the same file")
        }
    }

    func run() throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        for output in [confusionPng, errorsPng].compactMap({ $0 }) {
            try FileIO.requireWritableTarget(output)
        }
        let stored = try SafeTensorsFile.read(modelPath.model)
        let testSet: LabeledImages
        let source: String
        if let images, let labels {
            testSet = try LabeledImages.load(imagesAt: images, labelsAt: labels)
            try testSet.requireModelInputSize(source: images)
            source = images
        } else {
            testSet = try data.directory.load(.test)
            source = try data.directory.location(of: MNISTSplit.test.imagesFile)
        }
        let preprocessing = stored.preprocessing
        if preprocessing != .none {
            printDiagnostic("applying \(preprocessing.rawValue), as the model was trained with it")
        }
        let prepared = preprocessing.apply(to: testSet)
        let evaluation = Evaluation(of: stored.model, on: prepared, lossFunction: stored.lossFunction)
        if let confusionPng {
            try PNGFile.write(ConfusionHeatmap.render(evaluation.confusion), to: confusionPng)
            printDiagnostic("wrote the confusion heatmap to \(confusionPng)")
        }
        if let errorsPng {
            // The images as the model saw them (deskewed, when it was trained so).
            let mistakes = Misclassification.mostConfident(of: stored.model, on: prepared, limit: errorCount)
            try PNGFile.write(MisclassificationMontage.render(mistakes, images: prepared), to: errorsPng)
            printDiagnostic("wrote \(mistakes.count) misclassified images to \(errorsPng)")
        }
        if json {
            print(
                try EvaluationReport(evaluation: evaluation, stored: stored, model: modelPath.model, images: source)
                    .jsonString())
        } else {
            printTables(evaluation, stored: stored, source: source)
        }
    }

    private func printTables(_ evaluation: Evaluation, stored: StoredModel, source: String) {
        let correct = evaluation.confusion.indices.reduce(0) { $0 + evaluation.confusion[$1][$1] }
        print("model      \(modelPath.model)")
        print("images     \(source)")
        print("accuracy   \(percent(evaluation.accuracy)) (\(correct) of \(evaluation.count))")
        print("mean loss  \(formatted("%.4f", evaluation.meanLoss)) (\(stored.lossFunction.rawValue))")
        if stored.preprocessing != .none { print("prepared   \(stored.preprocessing.rawValue) (from the model file)") }
        print()
        print("confusion matrix: rows are true labels, columns predicted labels")
        let header = ["true\\pred"] + evaluation.confusion.indices.map(String.init) + ["total"]
        print(header.enumerated().map { rightAligned($1, $0 == 0 ? 9 : 6) }.joined())
        for (label, row) in evaluation.confusion.enumerated() {
            print(
                rightAligned(String(label), 9) + row.map { rightAligned(String($0), 6) }.joined()
                    + rightAligned(String(row.reduce(0, +)), 6))
        }
        print()
        print("label  precision  recall      f1  support")
        for metrics in evaluation.perClass {
            print(
                rightAligned(String(metrics.label), 5),
                rightAligned(formatted("%.4f", metrics.precision), 10),
                rightAligned(formatted("%.4f", metrics.recall), 7),
                rightAligned(formatted("%.4f", metrics.f1), 7),
                rightAligned(String(metrics.support), 8))
        }
    }
}

/// The `evaluate --json` object.
struct EvaluationReport: Encodable {
    struct PerClass: Encodable {
        let label: Int
        let precision: Double
        let recall: Double
        let f1: Double
        let support: Int
    }

    let accuracy: Double
    let loss: Double
    let count: Int
    let confusionMatrix: [[Int]]
    let perClass: [PerClass]
    let model: String
    let images: String
    let lossFunction: String
    let preprocessing: String

    init(evaluation: Evaluation, stored: StoredModel, model: String, images: String) {
        accuracy = evaluation.accuracy
        loss = evaluation.meanLoss
        count = evaluation.count
        confusionMatrix = evaluation.confusion
        perClass = evaluation.perClass.map {
            PerClass(label: $0.label, precision: $0.precision, recall: $0.recall, f1: $0.f1, support: $0.support)
        }
        self.model = model
        self.images = images
        lossFunction = stored.lossFunction.rawValue
        preprocessing = stored.preprocessing.rawValue
    }

    func jsonString() throws -> String {
        try JSONCoding.string(self)
    }
}
