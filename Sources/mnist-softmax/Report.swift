import ArgumentParser
import MNISTSoftmax

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a training report to open in a browser: curves, templates, confusion, errors, settings.",
        discussion: """
            Writes DIR/index.html and the PNG pictures it shows beside it; the page needs no network. \
            It shows the training curves recorded in the model file (loss, training and validation \
            accuracy per epoch, or per L-BFGS iteration), the ten weight templates, the confusion \
            heatmap and per-class precision/recall/F1 on the 10,000 test images, the most confident \
            errors, the settings, and the SHA-256 of the data files. A model file from before train \
            recorded its history still gets a report, without the curves.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var modelPath: ModelPathOption

    @Option(help: ArgumentHelp("Folder for index.html and its pictures (created if missing).", valueName: "dir"))
    var output: String

    @Option(
        help: ArgumentHelp(
            "How many misclassified images the report shows (1 to \(Evaluate.errorLimitRange.upperBound)).",
            valueName: "n"))
    var errorCount: Int = 24

    func validate() throws {
        guard Evaluate.errorLimitRange.contains(errorCount) else {
            throw ValidationError("--error-count must be between 1 and \(Evaluate.errorLimitRange.upperBound)")
        }
    }

    func run() throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        let stored = try SafeTensorsFile.read(modelPath.model)
        do {
            if try stored.trainingHistory() == nil {
                printDiagnostic("\(modelPath.model) records no training history; the report will have no curves")
            }
        } catch {
            printDiagnostic("\(modelPath.model): \(error); the report will have no curves")
        }
        let directory = data.directory
        let testSet = try directory.load(.test)
        let digests = testSet.contentDigests()
        let preprocessing = stored.preprocessing
        if preprocessing != .none {
            printDiagnostic("applying \(preprocessing.rawValue), as the model was trained with it")
        }
        let prepared = preprocessing.apply(to: testSet)
        let report = ModelReport(
            modelPath: modelPath.model, stored: stored,
            evaluation: Evaluation(of: stored.model, on: prepared, lossFunction: stored.lossFunction),
            evaluatedImages: prepared,
            mistakes: Misclassification.mostConfident(of: stored.model, on: prepared, limit: errorCount),
            dataFiles: DataFileDigest.rows(
                metadata: stored.metadata,
                testImages: (try directory.location(of: MNISTSplit.test.imagesFile), digests.images),
                testLabels: (try directory.location(of: MNISTSplit.test.labelsFile), digests.labels)))
        print(try report.write(toDirectory: output))
    }
}
